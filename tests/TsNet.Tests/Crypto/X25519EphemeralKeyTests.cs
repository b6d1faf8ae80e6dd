using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>
/// <see cref="X25519EphemeralKey"/> (one libcrypto import for a public key and several DHs) against the one-shot
/// <see cref="X25519"/> calls on both backends: same public key, same secrets, same low-order rejection.
/// </summary>
public class X25519EphemeralKeyTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PublicKeyAndSecrets_EqualTheOneShotCalls(bool openSsl)
    {
        var backend = openSsl ? X25519Backend.OpenSsl : X25519Backend.Managed;
        var random = new Random(7748);
        byte[] privateKey = new byte[32], first = new byte[32], second = new byte[32];
        byte[] expected = new byte[32], actual = new byte[32];
        for (int i = 0; i < 20; i++)
        {
            random.NextBytes(privateKey);
            random.NextBytes(first);
            random.NextBytes(second);
            var key = new X25519EphemeralKey(privateKey, backend);
            try
            {
                key.DerivePublicKey(actual);
                X25519.DerivePublicKey(privateKey, expected, X25519Backend.Managed);
                actual.Should().Equal(expected);

                key.TrySharedSecret(first, actual).Should().BeTrue();
                X25519.TrySharedSecret(privateKey, first, expected, X25519Backend.Managed).Should().BeTrue();
                actual.Should().Equal(expected);

                key.TrySharedSecret(second, actual).Should().BeTrue();
                X25519.TrySharedSecret(privateKey, second, expected, X25519Backend.Managed).Should().BeTrue();
                actual.Should().Equal(expected);
            }
            finally
            {
                key.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LowOrderPoint_IsRejected_AndTheKeyStillWorksAfterwards(bool openSsl)
    {
        var backend = openSsl ? X25519Backend.OpenSsl : X25519Backend.Managed;
        byte[] privateKey = new byte[32], lowOrder = new byte[32], peer = new byte[32], output = new byte[32], expected = new byte[32];
        X25519.GeneratePrivateKey(privateKey);
        X25519.GeneratePrivateKey(peer);
        lowOrder[0] = 1;
        var key = new X25519EphemeralKey(privateKey, backend);
        try
        {
            key.TrySharedSecret(lowOrder, output).Should().BeFalse();
            output.Should().OnlyContain(b => b == 0);
            key.TrySharedSecret(peer, output).Should().BeTrue();
            X25519.TrySharedSecret(privateKey, peer, expected, X25519Backend.Managed);
            output.Should().Equal(expected);
        }
        finally
        {
            key.Dispose();
        }
    }
}
