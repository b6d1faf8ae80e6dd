using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// NaCl <c>crypto_box</c> with precomputation, as Tailscale's disco uses it: the shared key is
/// HSalsa20(X25519(mine, theirs), 0^16) and each message is an XSalsa20-Poly1305 <c>secretbox</c>
/// (output <c>tag ‖ ciphertext</c>). Allocation-free.
/// </summary>
internal static class NaClBox
{
    public const int KeySize = 32;
    public const int NonceSize = 24;
    public const int Overhead = Poly1305.TagSize;

    // Salsa20's first 32 keystream bytes become the one-time Poly1305 key; the message uses the rest.
    private const int MessageKeystreamOffset = 32;

    /// <summary>box.Precompute; false when the peer's key is a low-order point (the caller must reject it).</summary>
    public static bool TryPrecompute(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedKey)
    {
        Span<byte> dh = stackalloc byte[X25519.KeySize];
        try
        {
            if (!X25519.TrySharedSecret(privateKey, publicKey, dh))
            {
                sharedKey.Clear();
                return false;
            }

            Salsa20.HSalsa20(dh, stackalloc byte[Salsa20.HSalsaInputSize], sharedKey);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dh);
        }
    }

    /// <summary>secretbox: <paramref name="tagAndCiphertext"/> is 16 bytes longer than <paramref name="plaintext"/>.</summary>
    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> tagAndCiphertext)
    {
        CheckKeyAndNonce(key, nonce);
        if (tagAndCiphertext.Length != plaintext.Length + Overhead)
        {
            throw new ArgumentException("The output must be the plaintext length plus 16.", nameof(tagAndCiphertext));
        }

        Span<byte> subkey = stackalloc byte[KeySize];
        Span<byte> block0 = stackalloc byte[Salsa20.BlockSize];
        try
        {
            Salsa20.HSalsa20(key, nonce[..Salsa20.HSalsaInputSize], subkey);
            var streamNonce = nonce[Salsa20.HSalsaInputSize..];
            Salsa20.Block(subkey, streamNonce, 0, block0);
            var ciphertext = tagAndCiphertext[Overhead..];
            Salsa20.XorKeyStream(subkey, streamNonce, MessageKeystreamOffset, plaintext, ciphertext);
            Poly1305.Compute(block0[..Poly1305.KeySize], ciphertext, tagAndCiphertext[..Overhead]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
            CryptographicOperations.ZeroMemory(block0);
        }
    }

    /// <summary>secretbox open; false (plaintext untouched) when the input is too short or the tag does not verify.</summary>
    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> tagAndCiphertext, Span<byte> plaintext)
    {
        CheckKeyAndNonce(key, nonce);
        if (tagAndCiphertext.Length < Overhead || plaintext.Length != tagAndCiphertext.Length - Overhead)
        {
            return false;
        }

        Span<byte> subkey = stackalloc byte[KeySize];
        Span<byte> block0 = stackalloc byte[Salsa20.BlockSize];
        Span<byte> expected = stackalloc byte[Overhead];
        try
        {
            Salsa20.HSalsa20(key, nonce[..Salsa20.HSalsaInputSize], subkey);
            var streamNonce = nonce[Salsa20.HSalsaInputSize..];
            Salsa20.Block(subkey, streamNonce, 0, block0);
            var ciphertext = tagAndCiphertext[Overhead..];
            Poly1305.Compute(block0[..Poly1305.KeySize], ciphertext, expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, tagAndCiphertext[..Overhead]))
            {
                return false;
            }

            Salsa20.XorKeyStream(subkey, streamNonce, MessageKeystreamOffset, ciphertext, plaintext);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
            CryptographicOperations.ZeroMemory(block0);
        }
    }

    private static void CheckKeyAndNonce(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException("Box keys are 32 bytes.", nameof(key));
        }

        if (nonce.Length != NonceSize)
        {
            throw new ArgumentException("Box nonces are 24 bytes.", nameof(nonce));
        }
    }
}
