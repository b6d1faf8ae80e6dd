using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>
/// The libcrypto handshake AEAD keeps one context per direction and thread and only re-keys it per call: a call
/// must not see anything of the previous one — another key, a failed open, different lengths. Every result is
/// compared with BouncyCastle's (the portable path) on the same inputs.
/// </summary>
public class HandshakeAeadContextReuseTests
{
    [Fact]
    public void InterleavedKeysLengthsAndFailures_MatchThePortableResults()
    {
        var random = new Random(8439);
        for (int i = 0; i < 200; i++)
        {
            byte[] key = new byte[32], nonce = new byte[12], plaintext = new byte[random.Next(0, 80)], aad = new byte[random.Next(0, 48)];
            random.NextBytes(key);
            random.NextBytes(nonce);
            random.NextBytes(plaintext);
            random.NextBytes(aad);

            byte[] sealedLibcrypto = new byte[plaintext.Length + 16], sealedPortable = new byte[plaintext.Length + 16];
            ChaCha20Poly1305Aead.Seal(key, nonce, plaintext, aad, sealedLibcrypto, portable: false);
            ChaCha20Poly1305Aead.Seal(key, nonce, plaintext, aad, sealedPortable, portable: true);
            sealedLibcrypto.Should().Equal(sealedPortable);

            byte[] opened = new byte[plaintext.Length];
            if (i % 3 == 0)
            {
                // A failed open in between: the next good one must still verify.
                byte[] tampered = (byte[])sealedLibcrypto.Clone();
                tampered[random.Next(tampered.Length)] ^= 0x20;
                ChaCha20Poly1305Aead.Open(key, nonce, tampered, aad, opened, portable: false).Should().BeFalse();
                opened.All(b => b == 0).Should().BeTrue("a failed open hands back no plaintext");
            }

            ChaCha20Poly1305Aead.Open(key, nonce, sealedLibcrypto, aad, opened, portable: false).Should().BeTrue();
            opened.Should().Equal(plaintext);
        }
    }
}
