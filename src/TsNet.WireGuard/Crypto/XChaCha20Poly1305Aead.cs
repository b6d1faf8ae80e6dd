using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), used for cookie replies.</summary>
internal static class XChaCha20Poly1305Aead
{
    public const int NonceSize = 24;
    public const int HChaChaNonceSize = 16;
    public const int TagSize = ChaCha20Poly1305Aead.TagSize;

    // "expand 32-byte k" as four little-endian words (RFC 8439 §2.3).
    private const uint Sigma0 = 0x61707865;
    private const uint Sigma1 = 0x3320646e;
    private const uint Sigma2 = 0x79622d32;
    private const uint Sigma3 = 0x6b206574;

    /// <summary>
    /// HChaCha20 (draft §2.2): the ChaCha20 block function without the final feed-forward,
    /// output = state words 0..3 and 12..15. BouncyCastle does not expose it.
    /// </summary>
    public static void HChaCha20(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce16, Span<byte> subkey)
    {
        if (key.Length != ChaCha20Poly1305Aead.KeySize)
        {
            throw new ArgumentException("HChaCha20 keys are 32 bytes.", nameof(key));
        }

        if (nonce16.Length != HChaChaNonceSize)
        {
            throw new ArgumentException("HChaCha20 nonces are 16 bytes.", nameof(nonce16));
        }

        if (subkey.Length != ChaCha20Poly1305Aead.KeySize)
        {
            throw new ArgumentException("HChaCha20 output is 32 bytes.", nameof(subkey));
        }

        Span<uint> x = stackalloc uint[16];
        try
        {
            x[0] = Sigma0;
            x[1] = Sigma1;
            x[2] = Sigma2;
            x[3] = Sigma3;
            for (int i = 0; i < 8; i++)
            {
                x[4 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
            }

            for (int i = 0; i < 4; i++)
            {
                x[12 + i] = BinaryPrimitives.ReadUInt32LittleEndian(nonce16[(4 * i)..]);
            }

            // 20 rounds = 10 double rounds: a column round then a diagonal round.
            for (int i = 0; i < 10; i++)
            {
                QuarterRound(x, 0, 4, 8, 12);
                QuarterRound(x, 1, 5, 9, 13);
                QuarterRound(x, 2, 6, 10, 14);
                QuarterRound(x, 3, 7, 11, 15);
                QuarterRound(x, 0, 5, 10, 15);
                QuarterRound(x, 1, 6, 11, 12);
                QuarterRound(x, 2, 7, 8, 13);
                QuarterRound(x, 3, 4, 9, 14);
            }

            for (int i = 0; i < 4; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(subkey[(4 * i)..], x[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(subkey[(16 + (4 * i))..], x[12 + i]);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x));
        }
    }

    /// <summary>ciphertextAndTag.Length == plaintext.Length + 16. May overlap exactly (in place).</summary>
    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        CheckNonce(nonce24);
        Span<byte> subkey = stackalloc byte[ChaCha20Poly1305Aead.KeySize];
        try
        {
            HChaCha20(key, nonce24[..HChaChaNonceSize], subkey);
            // The inner 12-byte nonce is 4 zero bytes ‖ nonce[16..24]: exactly WireGuard's nonce for that LE counter.
            ulong counter = BinaryPrimitives.ReadUInt64LittleEndian(nonce24[HChaChaNonceSize..]);
            ChaCha20Poly1305Aead.Seal(subkey, counter, plaintext, associatedData, ciphertextAndTag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
        }
    }

    /// <summary>plaintext.Length == ciphertextAndTag.Length - 16. False on authentication failure (plaintext then zeroed).</summary>
    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        CheckNonce(nonce24);
        Span<byte> subkey = stackalloc byte[ChaCha20Poly1305Aead.KeySize];
        try
        {
            HChaCha20(key, nonce24[..HChaChaNonceSize], subkey);
            ulong counter = BinaryPrimitives.ReadUInt64LittleEndian(nonce24[HChaChaNonceSize..]);
            return ChaCha20Poly1305Aead.Open(subkey, counter, ciphertextAndTag, associatedData, plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
        }
    }

    private static void QuarterRound(Span<uint> x, int a, int b, int c, int d)
    {
        x[a] += x[b];
        x[d] = BitOperations.RotateLeft(x[d] ^ x[a], 16);
        x[c] += x[d];
        x[b] = BitOperations.RotateLeft(x[b] ^ x[c], 12);
        x[a] += x[b];
        x[d] = BitOperations.RotateLeft(x[d] ^ x[a], 8);
        x[c] += x[d];
        x[b] = BitOperations.RotateLeft(x[b] ^ x[c], 7);
    }

    private static void CheckNonce(ReadOnlySpan<byte> nonce24)
    {
        if (nonce24.Length != NonceSize)
        {
            throw new ArgumentException($"XChaCha20 nonces are {NonceSize} bytes.", nameof(nonce24));
        }
    }
}
