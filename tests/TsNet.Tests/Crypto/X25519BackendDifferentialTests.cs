using System.Numerics;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>
/// libcrypto's X25519 against our ladder on the same inputs: random scalars (unclamped) and u values, every
/// low-order point, non-canonical u in [p, 2^255) and bit 255 set — same output, same all-zero rejection. Also
/// <see cref="X25519StaticKey"/> (the cached-key path the endpoint uses) against the one-shot call.
/// </summary>
public class X25519BackendDifferentialTests
{
    private static readonly BigInteger P = (BigInteger.One << 255) - 19;

    [Fact]
    public void OpenSslBackend_IsAvailableAndChosenByAuto()
    {
        // The machines TsNet runs and is tested on ship libcrypto 3; losing it would silently halve handshake speed.
        X25519.IsSupported(X25519Backend.OpenSsl).Should().BeTrue("libcrypto 3 is installed on the test machines");
        X25519.AutoBackend.Should().Be(X25519Backend.OpenSsl);
    }

    [Fact]
    public void RandomInputs_SameOutputAndVerdict()
    {
        var random = new Random(25519);
        byte[] k = new byte[32], u = new byte[32], managed = new byte[32], openSsl = new byte[32];
        for (int i = 0; i < 500 * TestScale.Factor; i++)
        {
            random.NextBytes(k); // unclamped: both backends clamp themselves
            random.NextBytes(u); // bit 255 set half the time
            Compare(k, u, managed, openSsl);
        }
    }

    [Fact]
    public void LowOrderAndNonCanonicalInputs_SameOutputAndVerdict()
    {
        var random = new Random(7748);
        byte[] k = new byte[32], managed = new byte[32], openSsl = new byte[32];
        var inputs = new List<byte[]>();
        foreach (var row in X25519Rfc7748Tests.LowOrderInputs())
        {
            inputs.Add(Hex.Decode(row));
        }

        for (int r = 0; r < 19; r++)
        {
            // p + r: every non-canonical encoding below 2^255, with and without bit 255.
            byte[] u = Encode(P + r);
            inputs.Add(u);
            byte[] high = (byte[])u.Clone();
            high[31] |= 0x80;
            inputs.Add(high);
        }

        inputs.Add(Enumerable.Repeat((byte)0xff, 32).ToArray());
        inputs.Add(Encode(P - 1 - 1));
        foreach (byte[] u in inputs)
        {
            for (int i = 0; i < 3; i++)
            {
                random.NextBytes(k);
                Compare(k, u, managed, openSsl);
            }
        }

        // The verdicts must have covered both outcomes.
        inputs.Count(u => !X25519.TrySharedSecret(k, u, managed, X25519Backend.Managed)).Should().BeGreaterThan(10);
        inputs.Count(u => X25519.TrySharedSecret(k, u, managed, X25519Backend.Managed)).Should().BeGreaterThan(10);
    }

    [Fact]
    public void PublicKeys_Agree()
    {
        var random = new Random(9);
        byte[] k = new byte[32], managed = new byte[32], openSsl = new byte[32];
        for (int i = 0; i < 100; i++)
        {
            random.NextBytes(k);
            X25519.DerivePublicKey(k, managed, X25519Backend.Managed);
            X25519.DerivePublicKey(k, openSsl, X25519Backend.OpenSsl);
            openSsl.Should().Equal(managed, $"public key of k = {Hex.Encode(k)}");
        }
    }

    [Theory]
    [InlineData("Managed")]
    [InlineData("OpenSsl")]
    public void StaticKey_MatchesOneShot_AndRejectsLowOrder(string backendName)
    {
        var backend = Enum.Parse<X25519Backend>(backendName);
        var random = new Random(3);
        byte[] privateKey = new byte[32], u = new byte[32], expected = new byte[32], actual = new byte[32];
        random.NextBytes(privateKey);
        using var key = new X25519StaticKey(privateKey, backend);
        key.Backend.Should().Be(backend);
        for (int i = 0; i < 50; i++)
        {
            random.NextBytes(u);
            X25519.TrySharedSecret(privateKey, u, expected, X25519Backend.Managed).Should().BeTrue();
            key.TrySharedSecret(u, actual).Should().BeTrue();
            actual.Should().Equal(expected);
        }

        actual.AsSpan().Fill(0xaa);
        key.TrySharedSecret(new byte[32], actual).Should().BeFalse();
        actual.Should().OnlyContain(b => b == 0);

        // Usable again after a rejection (libcrypto's error queue was cleared, the context still works).
        key.TrySharedSecret(u, actual).Should().BeTrue();
        actual.Should().Equal(expected);
    }

    [Fact]
    public void StaticKey_AfterDispose_Throws()
    {
        var key = new X25519StaticKey(new byte[32], X25519Backend.OpenSsl);
        key.Dispose();
        var act = () => key.TrySharedSecret(new byte[32], new byte[32]);
        act.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void OpenSsl_OneShotAndStaticKey_AllocateNothing()
    {
        byte[] privateKey = Hex.Decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] publicKey = Hex.Decode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        byte[] lowOrder = new byte[32];
        byte[] output = new byte[32];
        using var key = new X25519StaticKey(privateKey, X25519Backend.OpenSsl);
        X25519.TrySharedSecret(privateKey, publicKey, output, X25519Backend.OpenSsl); // warm up: JIT, per-thread contexts
        X25519.DerivePublicKey(privateKey, output, X25519Backend.OpenSsl);
        key.TrySharedSecret(lowOrder, output);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            X25519.TrySharedSecret(privateKey, (i & 1) == 0 ? publicKey : lowOrder, output, X25519Backend.OpenSsl);
            key.TrySharedSecret((i & 1) == 0 ? publicKey : lowOrder, output);
        }

        X25519.DerivePublicKey(privateKey, output, X25519Backend.OpenSsl);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0);
    }

    private static void Compare(byte[] k, byte[] u, byte[] managed, byte[] openSsl)
    {
        managed.AsSpan().Fill(0x55);
        openSsl.AsSpan().Fill(0xaa);
        bool managedOk = X25519.TrySharedSecret(k, u, managed, X25519Backend.Managed);
        bool openSslOk = X25519.TrySharedSecret(k, u, openSsl, X25519Backend.OpenSsl);
        openSslOk.Should().Be(managedOk, $"k = {Hex.Encode(k)}, u = {Hex.Encode(u)}");
        openSsl.Should().Equal(managed, $"k = {Hex.Encode(k)}, u = {Hex.Encode(u)}");
    }

    private static byte[] Encode(BigInteger value)
    {
        byte[] bytes = new byte[32];
        value.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false).Should().BeTrue();
        return bytes;
    }
}
