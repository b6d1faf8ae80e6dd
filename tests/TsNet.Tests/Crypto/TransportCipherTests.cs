using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

public class TransportCipherTests
{
    // wireguard.md §10.2 transport keys.
    private static readonly byte[] T1 = Hex.Decode("c5f330b6dc92c8bd4124800733b33cd9d7e5dd2ac8c782e1b558f9b2b60804d8");
    private static readonly byte[] T2 = Hex.Decode("df0e53eac779a4c1ab023907c8dda549efdbf8ca9a4ce931ba1d27a2a8be73f9");

    // Backends travel as names: the enum is internal and xunit theory methods are public.
    public static TheoryData<string> Backends
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (TransportCipherBackend backend in Enum.GetValues<TransportCipherBackend>())
            {
                data.Add(backend.ToString());
            }

            return data;
        }
    }

    public static TheoryData<string, int> BackendsAndSizes
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (TransportCipherBackend backend in Enum.GetValues<TransportCipherBackend>())
            {
                foreach (int size in new[] { 0, 1, 15, 16, 64, 1420, 8192 })
                {
                    data.Add(backend.ToString(), size);
                }
            }

            return data;
        }
    }

    [Fact]
    public void OpenSsl_IsAvailableOnTheProjectMachines()
    {
        // libcrypto.so.3 ships with Debian 12; if this fails, Auto silently fell back to a slower backend.
        TransportCipher.IsSupported(TransportCipherBackend.OpenSsl).Should().BeTrue();
        TransportCipher.AutoBackend.Should().Be(TransportCipherBackend.OpenSsl);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Create_ReportsItsBackend(string backendName)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        using TransportCipher cipher = TransportCipher.Create(T1, backend);
        cipher.Backend.Should().Be(backend == TransportCipherBackend.Auto ? TransportCipher.AutoBackend : backend);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Seal_Keepalive_MatchesHandshakeVector(string backendName)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        using TransportCipher cipher = TransportCipher.Create(T1, backend);
        byte[] tag = new byte[16];
        cipher.Seal(0, [], tag);
        Hex.Encode(tag).Should().Be("fd3ffdf38f1bfad20a6fdb169d83d3d3");
        cipher.Open(0, [], tag).Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Seal_ResponderData_MatchesHandshakeVector(string backendName)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        using TransportCipher cipher = TransportCipher.Create(T2, backend);
        byte[] packet = new byte[32 + 16];
        Hex.Decode("4500001400000000400166e70a0000010a000002").CopyTo(packet, 0);
        cipher.Seal(1, packet.AsSpan(0, 32), packet.AsSpan(32));
        Hex.Encode(packet).Should().Be("e69d5265e322a631bfcae16ee37b86fb030d42faf16e73ef8d292aa9038627a38d94a780c18f53dd78d5a05cb30c2924");

        using TransportCipher receiver = TransportCipher.Create(T2, backend);
        receiver.Open(1, packet.AsSpan(0, 32), packet.AsSpan(32)).Should().BeTrue();
        Hex.Encode(packet.AsSpan(0, 20)).Should().Be("4500001400000000400166e70a0000010a000002");
        packet.AsSpan(20, 12).ToArray().Should().OnlyContain(b => b == 0);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Seal_Rfc8439Plaintext_AgreesWithTheHandshakeAead(string backendName)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        // Transport AEAD has no associated data, so RFC 8439's key and plaintext are sealed with empty AD under
        // nonce 00000000‖4041424344454647; the expected bytes come from the BouncyCastle handshake path.
        const ulong counter = 0x4746454443424140;
        byte[] nonce = new byte[12];
        ChaCha20Poly1305Aead.WriteNonce(counter, nonce);
        byte[] expected = new byte[Rfc8439Vector.Plaintext.Length + 16];
        ChaCha20Poly1305Aead.Seal(Rfc8439Vector.Key, nonce, Rfc8439Vector.Plaintext, [], expected, portable: true);

        using TransportCipher cipher = TransportCipher.Create(Rfc8439Vector.Key, backend);
        byte[] data = (byte[])Rfc8439Vector.Plaintext.Clone();
        byte[] tag = new byte[16];
        cipher.Seal(counter, data, tag);
        ((byte[])[.. data, .. tag]).Should().Equal(expected);
    }

    [Theory]
    [MemberData(nameof(BackendsAndSizes))]
    public void SealThenOpen_RoundTrips_AndAgreesWithEveryOtherBackend(string backendName, int size)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        byte[] key = Hex.Range(0x40, 0x5f);
        byte[] plaintext = new byte[size];
        new Random(size).NextBytes(plaintext);

        using TransportCipher cipher = TransportCipher.Create(key, backend);
        byte[] data = (byte[])plaintext.Clone();
        byte[] tag = new byte[16];
        for (ulong counter = 0; counter < 3; counter++)
        {
            // Several packets through one context: the per-packet IV reset must leave no state behind.
            plaintext.CopyTo(data, 0);
            cipher.Seal(counter, data, tag);

            byte[] expected = new byte[size + 16];
            ChaCha20Poly1305Aead.Seal(key, counter, plaintext, [], expected);
            ((byte[])[.. data, .. tag]).Should().Equal(expected);

            foreach (TransportCipherBackend other in Enum.GetValues<TransportCipherBackend>())
            {
                using TransportCipher receiver = TransportCipher.Create(key, other);
                byte[] copy = (byte[])data.Clone();
                receiver.Open(counter, copy, tag).Should().BeTrue($"{other} opens what {backend} sealed");
                copy.Should().Equal(plaintext);
            }

            cipher.Open(counter, data, tag).Should().BeTrue();
            data.Should().Equal(plaintext);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Open_RejectsFlippedBits_AndZeroesTheData(string backendName)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        byte[] key = Hex.Range(0x60, 0x7f);
        using TransportCipher cipher = TransportCipher.Create(key, backend);
        byte[] plaintext = Hex.Range(0x00, 0x3f);
        byte[] data = (byte[])plaintext.Clone();
        byte[] tag = new byte[16];
        cipher.Seal(7, data, tag);

        byte[] badData = (byte[])data.Clone();
        badData[10] ^= 1;
        cipher.Open(7, badData, tag).Should().BeFalse();
        badData.Should().OnlyContain(b => b == 0);

        byte[] badTag = (byte[])tag.Clone();
        badTag[15] ^= 0x80;
        byte[] copy = (byte[])data.Clone();
        cipher.Open(7, copy, badTag).Should().BeFalse();

        copy = (byte[])data.Clone();
        cipher.Open(8, copy, tag).Should().BeFalse("the counter is part of the nonce");

        // A failure leaves the context usable for the next genuine packet.
        cipher.Open(7, data, tag).Should().BeTrue();
        data.Should().Equal(plaintext);
    }

    [Theory]
    [InlineData("OpenSsl")]
    [InlineData("Bcl")]
    public void SealAndOpen_DoNotAllocate(string backendName)
    {
        // The native-backed backends are the hot path; BouncyCastle is the documented exception.
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        using TransportCipher cipher = TransportCipher.Create(T1, backend);
        byte[] data = new byte[1420];
        byte[] tag = new byte[16];
        cipher.Seal(0, data, tag);
        cipher.Open(0, data, tag).Should().BeTrue();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong counter = 1; counter <= 100; counter++)
        {
            cipher.Seal(counter, data, tag);
            cipher.Open(counter, data, tag);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Open_WrongTagLength_ReturnsFalse(string backendName)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        using TransportCipher cipher = TransportCipher.Create(T1, backend);
        cipher.Open(0, new byte[4], new byte[15]).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Dispose_IsIdempotent_AndUseAfterDisposeThrows(string backendName)
    {
        TransportCipherBackend backend = Enum.Parse<TransportCipherBackend>(backendName);
        TransportCipher cipher = TransportCipher.Create(T1, backend);
        cipher.Dispose();
        cipher.Dispose();
        Action seal = () => cipher.Seal(0, [], new byte[16]);
        seal.Should().Throw<ObjectDisposedException>();
    }
}
