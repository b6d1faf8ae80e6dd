using System.Security.Cryptography;
using Rfc7748 = Org.BouncyCastle.Math.EC.Rfc7748.X25519;

namespace TsNet.WireGuard.Crypto;

/// <summary>X25519 (RFC 7748).</summary>
internal static class X25519
{
    public const int KeySize = 32;

    // BouncyCastle 1.8.10 only takes arrays; one per-thread scratch (scalar ‖ point ‖ result) keeps DH allocation-free.
    private const int ScratchSize = 3 * KeySize;

    [ThreadStatic]
    private static byte[]? t_scratch;

    /// <summary>32 random bytes, clamped.</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        RandomNumberGenerator.Fill(privateKey);
        ClampPrivateKey(privateKey);
    }

    public static void ClampPrivateKey(Span<byte> privateKey)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        privateKey[0] &= 248;
        privateKey[31] = (byte)((privateKey[31] & 127) | 64);
    }

    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        CheckKeyLength(publicKey.Length, nameof(publicKey));
        byte[] scratch = t_scratch ??= new byte[ScratchSize];
        try
        {
            privateKey.CopyTo(scratch);
            Rfc7748.ScalarMultBase(scratch, 0, scratch, 2 * KeySize);
            scratch.AsSpan(2 * KeySize, KeySize).CopyTo(publicKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }
    }

    /// <summary>False when the result is all zero (low-order point): the caller must reject.</summary>
    public static bool TrySharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        CheckKeyLength(publicKey.Length, nameof(publicKey));
        CheckKeyLength(sharedSecret.Length, nameof(sharedSecret));
        byte[] scratch = t_scratch ??= new byte[ScratchSize];
        try
        {
            privateKey.CopyTo(scratch);
            publicKey.CopyTo(scratch.AsSpan(KeySize));
            // ScalarMult clamps the scalar and masks the point's top bit itself, as RFC 7748 §5 requires.
            Rfc7748.ScalarMult(scratch, 0, scratch, KeySize, scratch, 2 * KeySize);
            Span<byte> result = scratch.AsSpan(2 * KeySize, KeySize);
            result.CopyTo(sharedSecret);
            return !IsAllZero(result);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }
    }

    // Constant time: the shared secret must not leak through early exit timing.
    private static bool IsAllZero(ReadOnlySpan<byte> value)
    {
        int accumulator = 0;
        foreach (byte b in value)
        {
            accumulator |= b;
        }

        return accumulator == 0;
    }

    private static void CheckKeyLength(int length, string paramName)
    {
        if (length != KeySize)
        {
            throw new ArgumentException($"X25519 keys are {KeySize} bytes.", paramName);
        }
    }
}
