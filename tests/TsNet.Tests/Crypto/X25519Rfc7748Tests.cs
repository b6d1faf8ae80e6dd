using System.Numerics;
using TsNet.WireGuard.Crypto;
using BcX25519 = Org.BouncyCastle.Math.EC.Rfc7748.X25519;

namespace TsNet.Tests.Crypto;

/// <summary>
/// RFC 7748 conformance of each X25519 backend: §5.2 vectors and iterations, input decoding (bit 255, u ≥ p),
/// low-order inputs, agreement with BouncyCastle (the implementation the ladder replaced) and no allocation per call.
/// </summary>
public abstract class X25519Rfc7748Tests
{
    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string AliceBobShared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    private static readonly BigInteger P = (BigInteger.One << 255) - 19;

    private static int Scale => TestScale.Factor;

    /// <summary>The implementation under test: every test runs against each backend (see the sealed subclasses).</summary>
    private protected abstract X25519Backend Backend { get; }

    [Theory]
    [InlineData( // RFC 7748 §5.2, first vector
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")]
    [InlineData( // second vector; its u has bit 255 set, which must be ignored
        "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
    public void Section52_Vectors(string scalar, string u, string expected)
    {
        byte[] output = new byte[X25519.KeySize];
        X25519.TrySharedSecret(Hex.Decode(scalar), Hex.Decode(u), output, Backend).Should().BeTrue();
        Hex.Encode(output).Should().Be(expected);
    }

    [Fact]
    public void Section52_Iterated_1And1000()
    {
        byte[] k = Hex.Decode("0900000000000000000000000000000000000000000000000000000000000000");
        byte[] u = (byte[])k.Clone();
        Iterate(k, u, 1);
        Hex.Encode(k).Should().Be("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
        Iterate(k, u, 999);
        Hex.Encode(k).Should().Be("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
    }

    [Fact]
    public void Section52_Iterated_1000000()
    {
        if (Scale < 100)
        {
            return; // about a minute; runs with TSNET_TEST_SCALE >= 100
        }

        byte[] k = Hex.Decode("0900000000000000000000000000000000000000000000000000000000000000");
        byte[] u = (byte[])k.Clone();
        Iterate(k, u, 1_000_000);
        Hex.Encode(k).Should().Be("7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424");
    }

    [Fact]
    public void Section61_DiffieHellman_OutputMayAliasInputs()
    {
        // The ladder consumes both inputs before writing, so in-place use works.
        byte[] buffer = Hex.Decode(BobPublic);
        X25519.TrySharedSecret(Hex.Decode(AlicePrivate), buffer, buffer, Backend).Should().BeTrue();
        Hex.Encode(buffer).Should().Be(AliceBobShared);

        byte[] key = Hex.Decode(AlicePrivate);
        X25519.DerivePublicKey(key, key, Backend);
        Hex.Encode(key).Should().Be("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    }

    public static TheoryData<string> LowOrderInputs()
    {
        // The points of order 1, 2, 4 and 8 (u = 0, 1, p - 1 and two of order 8), their non-canonical
        // encodings below 2^255 (p and p + 1), and every one with bit 255 set, which RFC 7748 ignores.
        BigInteger[] points =
        [
            BigInteger.Zero,
            BigInteger.One,
            P - 1,
            FromHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            FromHex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        ];
        var data = new TheoryData<string>();
        foreach (BigInteger point in points)
        {
            data.Add(ToHex(point));
            data.Add(ToHex(point | (BigInteger.One << 255)));
        }

        data.Add(ToHex(P));
        data.Add(ToHex(P + 1));
        return data;
    }

    [Theory]
    [MemberData(nameof(LowOrderInputs), MemberType = typeof(X25519Rfc7748Tests))]
    public void LowOrderInputs_GiveAllZero_AndAreRejected(string u)
    {
        byte[] privateKey = new byte[32];
        byte[] shared = new byte[32];
        var random = new Random(5);
        for (int i = 0; i < 4; i++)
        {
            random.NextBytes(privateKey);
            shared.AsSpan().Fill(0xaa);
            X25519.TrySharedSecret(privateKey, Hex.Decode(u), shared, Backend).Should().BeFalse();
            shared.Should().OnlyContain(b => b == 0);
        }
    }

    [Fact]
    public void UAtOrAboveP_IsTreatedAsItsResidue()
    {
        // RFC 7748 §5: non-canonical u in [p, 2^255) must be accepted and processed as u mod p.
        byte[] privateKey = Hex.Decode(AlicePrivate);
        byte[] expected = new byte[32];
        byte[] actual = new byte[32];
        for (int r = 2; r < 19; r++) // p + r for every r that keeps the value below 2^255 (0 and 1 are low order)
        {
            X25519.TrySharedSecret(privateKey, Hex.Decode(ToHex(r)), expected, Backend).Should().BeTrue();
            X25519.TrySharedSecret(privateKey, Hex.Decode(ToHex(P + r)), actual, Backend).Should().BeTrue();
            actual.Should().Equal(expected, $"u = p + {r} must act as u = {r}");
        }

        // p + 9 is the base point.
        X25519.DerivePublicKey(privateKey, expected, Backend);
        X25519.TrySharedSecret(privateKey, Hex.Decode(ToHex(P + 9)), actual, Backend).Should().BeTrue();
        actual.Should().Equal(expected);
    }

    [Fact]
    public void Bit255_IsIgnored()
    {
        byte[] bobPublic = Hex.Decode(BobPublic);
        bobPublic[31] |= 0x80;
        byte[] shared = new byte[32];
        X25519.TrySharedSecret(Hex.Decode(AlicePrivate), bobPublic, shared, Backend).Should().BeTrue();
        Hex.Encode(shared).Should().Be(AliceBobShared);

        // 2^256 - 1 decodes as 2^255 - 1 = p + 18.
        byte[] allOnes = Enumerable.Repeat((byte)0xff, 32).ToArray();
        byte[] expected = new byte[32];
        X25519.TrySharedSecret(Hex.Decode(AlicePrivate), Hex.Decode(ToHex(18)), expected, Backend).Should().BeTrue();
        X25519.TrySharedSecret(Hex.Decode(AlicePrivate), allOnes, shared, Backend).Should().BeTrue();
        shared.Should().Equal(expected);
    }

    [Fact]
    public void UnclampedScalar_IsClampedInternally()
    {
        byte[] clamped = Hex.Decode(AlicePrivate);
        X25519.ClampPrivateKey(clamped);
        byte[] unclamped = (byte[])clamped.Clone();
        unclamped[0] |= 7;
        unclamped[31] |= 0x80;
        unclamped[31] &= 0xbf;
        byte[] expected = new byte[32], actual = new byte[32];
        X25519.DerivePublicKey(clamped, expected, Backend);
        X25519.DerivePublicKey(unclamped, actual, Backend);
        actual.Should().Equal(expected);
        unclamped[0].Should().Be((byte)(clamped[0] | 7), "the caller's key is not modified");
    }

    [Fact]
    public void RandomInputs_MatchBouncyCastle()
    {
        // BouncyCastle's RFC 7748 code (the previous implementation) as the reference. Full 32 random bytes for
        // u, so bit 255 is set half the time, as it may be from a hostile peer.
        var random = new Random(7748);
        byte[] k = new byte[32], u = new byte[32], ours = new byte[32], reference = new byte[32];
        for (int i = 0; i < 200; i++)
        {
            random.NextBytes(k);
            random.NextBytes(u);
            if (i % 10 == 9)
            {
                // Non-canonical u = p + r (r < 19 keeps it below 2^255; 0 and 1 are low order), half with bit 255.
                Hex.Decode(ToHex(P + random.Next(19))).CopyTo(u, 0);
                u[31] |= (byte)(i % 20 == 19 ? 0x80 : 0);
            }

            bool ok = X25519.TrySharedSecret(k, u, ours, Backend);
            BcX25519.ScalarMult(k, 0, u, 0, reference, 0);
            ours.Should().Equal(reference, $"k = {Hex.Encode(k)}, u = {Hex.Encode(u)}");
            ok.Should().Be(reference.Any(b => b != 0));

            X25519.DerivePublicKey(k, ours, Backend);
            BcX25519.ScalarMultBase(k, 0, reference, 0);
            ours.Should().Equal(reference, $"public key of k = {Hex.Encode(k)}");
        }
    }

    [Fact]
    public void ScalarMultiplication_AllocatesNothing()
    {
        byte[] privateKey = Hex.Decode(AlicePrivate);
        byte[] publicKey = Hex.Decode(BobPublic);
        byte[] lowOrder = new byte[32];
        byte[] output = new byte[32];
        X25519.TrySharedSecret(privateKey, publicKey, output, Backend); // warm up: JIT, static data
        X25519.TrySharedSecret(privateKey, lowOrder, output, Backend);
        X25519.DerivePublicKey(privateKey, output, Backend);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            X25519.TrySharedSecret(privateKey, (i & 1) == 0 ? publicKey : lowOrder, output, Backend);
        }

        X25519.DerivePublicKey(privateKey, output, Backend);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0);
    }

    // RFC 7748 §5.2: k, u = X25519(k, u), k.
    private void Iterate(byte[] k, byte[] u, int iterations)
    {
        byte[] next = new byte[32];
        for (int i = 0; i < iterations; i++)
        {
            X25519.TrySharedSecret(k, u, next, Backend);
            k.CopyTo(u, 0);
            next.CopyTo(k, 0);
        }
    }

    private static BigInteger FromHex(string hex) => new(Hex.Decode(hex), isUnsigned: true, isBigEndian: false);

    private static string ToHex(BigInteger value)
    {
        byte[] bytes = new byte[32];
        value.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false).Should().BeTrue();
        return Hex.Encode(bytes);
    }
}

/// <summary>X25519Rfc7748Tests against libcrypto (<see cref="OpenSslX25519"/>); fails, rather than skips, without libcrypto.</summary>
public sealed class OpenSslX25519Rfc7748Tests : X25519Rfc7748Tests
{
    private protected override X25519Backend Backend => X25519Backend.OpenSsl;
}

/// <summary>X25519Rfc7748Tests against the managed ladder (the portable fallback).</summary>
public sealed class ManagedX25519Rfc7748Tests : X25519Rfc7748Tests
{
    private protected override X25519Backend Backend => X25519Backend.Managed;
}
