using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using BouncyCastleChaCha20Poly1305 = Org.BouncyCastle.Crypto.Modes.ChaCha20Poly1305;

namespace TsNet.WireGuard.Crypto;

/// <summary>ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce (4 zero bytes ‖ counter LE). Used for handshakes.</summary>
/// <remarks>
/// One key per call suits the handshake (a few calls per handshake); transport data uses
/// <see cref="TransportCipher"/>, which keeps a context per key. libcrypto on a reused per-thread context is
/// used where it loads (no allocation, no exception on a bad tag), then the BCL, then BouncyCastle.
/// </remarks>
internal static class ChaCha20Poly1305Aead
{
    public const int KeySize = 32;
    public const int TagSize = 16;
    public const int NonceSize = 12;

    /// <summary>Writes WireGuard's 12-byte nonce: 4 zero bytes, then the counter little-endian.</summary>
    public static void WriteNonce(ulong counter, Span<byte> nonce)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..NonceSize], counter);
    }

    /// <summary>ciphertextAndTag.Length == plaintext.Length + 16. May overlap exactly (in place).</summary>
    public static void Seal(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        WriteNonce(counter, nonce);
        Seal(key, nonce, plaintext, associatedData, ciphertextAndTag, portable: false);
    }

    /// <summary>plaintext.Length == ciphertextAndTag.Length - 16. False on authentication failure (plaintext then zeroed).</summary>
    public static bool Open(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        WriteNonce(counter, nonce);
        return Open(key, nonce, ciphertextAndTag, associatedData, plaintext, portable: false);
    }

    /// <summary>
    /// RFC 8439 with an arbitrary 12-byte nonce; <paramref name="portable"/> forces BouncyCastle
    /// (tests run published vectors through both implementations).
    /// </summary>
    internal static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag, bool portable)
    {
        CheckKeyAndNonce(key, nonce);
        if (ciphertextAndTag.Length != plaintext.Length + TagSize)
        {
            throw new ArgumentException("The output must be the plaintext length plus the 16-byte tag.", nameof(ciphertextAndTag));
        }

        if (!portable && OpenSslHandshakeAead.IsSupported)
        {
            OpenSslHandshakeAead.Seal(key, nonce, plaintext, associatedData, ciphertextAndTag);
            return;
        }

        if (!portable && System.Security.Cryptography.ChaCha20Poly1305.IsSupported)
        {
            using var aead = new System.Security.Cryptography.ChaCha20Poly1305(key);
            aead.Encrypt(nonce, plaintext, ciphertextAndTag[..plaintext.Length], ciphertextAndTag[plaintext.Length..], associatedData);
            return;
        }

        BouncyCastleSeal(key, nonce, plaintext, associatedData, ciphertextAndTag);
    }

    /// <summary>RFC 8439 with an arbitrary 12-byte nonce; see the matching Seal overload.</summary>
    internal static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext, bool portable)
    {
        CheckKeyAndNonce(key, nonce);
        // Untrusted input: a message too short to hold a tag, or not matching the output, just fails to authenticate.
        if (ciphertextAndTag.Length < TagSize || plaintext.Length != ciphertextAndTag.Length - TagSize)
        {
            plaintext.Clear();
            return false;
        }

        if (!portable && OpenSslHandshakeAead.IsSupported)
        {
            return OpenSslHandshakeAead.Open(key, nonce, ciphertextAndTag, associatedData, plaintext);
        }

        if (!portable && System.Security.Cryptography.ChaCha20Poly1305.IsSupported)
        {
            using var aead = new System.Security.Cryptography.ChaCha20Poly1305(key);
            try
            {
                aead.Decrypt(nonce, ciphertextAndTag[..plaintext.Length], ciphertextAndTag[plaintext.Length..], plaintext, associatedData);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                // The BCL has already zeroed the plaintext.
                return false;
            }
        }

        return BouncyCastleOpen(key, nonce, ciphertextAndTag, associatedData, plaintext);
    }

    // BouncyCastle 1.8.10 works on arrays only; the handshake path can afford the copies.
    private static void BouncyCastleSeal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        byte[] keyCopy = key.ToArray();
        byte[] buffer = new byte[ciphertextAndTag.Length];
        try
        {
            plaintext.CopyTo(buffer);
            BouncyCastleChaCha20Poly1305 aead = CreateBouncyCastle(forEncryption: true, keyCopy, nonce, associatedData);
            int written = aead.ProcessBytes(buffer, 0, plaintext.Length, buffer, 0);
            aead.DoFinal(buffer, written);
            buffer.CopyTo(ciphertextAndTag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    private static bool BouncyCastleOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        byte[] keyCopy = key.ToArray();
        byte[] buffer = ciphertextAndTag.ToArray();
        try
        {
            // BouncyCastle holds back the trailing 16 tag bytes, so decrypting into the same array is safe,
            // and nothing reaches the caller's span before the tag has been verified.
            BouncyCastleChaCha20Poly1305 aead = CreateBouncyCastle(forEncryption: false, keyCopy, nonce, associatedData);
            int written = aead.ProcessBytes(buffer, 0, buffer.Length, buffer, 0);
            aead.DoFinal(buffer, written);
            buffer.AsSpan(0, plaintext.Length).CopyTo(plaintext);
            return true;
        }
        catch (InvalidCipherTextException)
        {
            plaintext.Clear();
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    private static BouncyCastleChaCha20Poly1305 CreateBouncyCastle(bool forEncryption, byte[] key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData)
    {
        var aead = new BouncyCastleChaCha20Poly1305();
        aead.Init(forEncryption, new AeadParameters(new KeyParameter(key), TagSize * 8, nonce.ToArray(), associatedData.ToArray()));
        return aead;
    }

    private static void CheckKeyAndNonce(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"ChaCha20-Poly1305 keys are {KeySize} bytes.", nameof(key));
        }

        if (nonce.Length != NonceSize)
        {
            throw new ArgumentException($"ChaCha20-Poly1305 nonces are {NonceSize} bytes.", nameof(nonce));
        }
    }
}
