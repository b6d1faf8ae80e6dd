// STUB: signatures agreed between the protocol core and the crypto implementation.
// The crypto helper replaces this file with one file per primitive (same names and signatures).
namespace TsNet.WireGuard.Crypto;

/// <summary>X25519 (RFC 7748).</summary>
internal static class X25519
{
    public const int KeySize = 32;
    /// <summary>32 random bytes, clamped.</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey) => throw new NotImplementedException();
    public static void ClampPrivateKey(Span<byte> privateKey) => throw new NotImplementedException();
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey) => throw new NotImplementedException();
    /// <summary>False when the result is all zero (low-order point): the caller must reject.</summary>
    public static bool TrySharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret) => throw new NotImplementedException();
}

/// <summary>BLAKE2s (RFC 7693) and the WireGuard constructions over it.</summary>
internal static class Blake2s
{
    public const int HashSize = 32;
    public const int MacSize = 16;
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> hash) => throw new NotImplementedException();
    /// <summary>HASH(a ‖ b) without concatenating.</summary>
    public static void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> hash) => throw new NotImplementedException();
    /// <summary>Keyed BLAKE2s with a 16-byte digest length parameter (WireGuard MAC).</summary>
    public static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac) => throw new NotImplementedException();
    /// <summary>RFC 2104 HMAC with BLAKE2s-256 (64-byte block).</summary>
    public static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output) => throw new NotImplementedException();
}

/// <summary>WireGuard's HKDF-style KDF1/2/3 over HMAC-BLAKE2s.</summary>
internal static class NoiseKdf
{
    public static void Kdf1(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1) => throw new NotImplementedException();
    public static void Kdf2(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2) => throw new NotImplementedException();
    public static void Kdf3(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2, Span<byte> t3) => throw new NotImplementedException();
}

/// <summary>ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce (4 zero bytes ‖ counter LE). Used for handshakes.</summary>
internal static class ChaCha20Poly1305Aead
{
    public const int KeySize = 32;
    public const int TagSize = 16;
    /// <summary>ciphertextAndTag.Length == plaintext.Length + 16. May overlap exactly (in place).</summary>
    public static void Seal(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) => throw new NotImplementedException();
    /// <summary>plaintext.Length == ciphertextAndTag.Length - 16. False on authentication failure (plaintext then zeroed).</summary>
    public static bool Open(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) => throw new NotImplementedException();
}

/// <summary>XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), used for cookie replies.</summary>
internal static class XChaCha20Poly1305Aead
{
    public const int NonceSize = 24;
    public static void HChaCha20(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce16, Span<byte> subkey) => throw new NotImplementedException();
    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) => throw new NotImplementedException();
    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) => throw new NotImplementedException();
}

/// <summary>Which implementation carries transport-data AEAD.</summary>
internal enum TransportCipherBackend { Auto, OpenSsl, Bcl, BouncyCastle }

/// <summary>
/// ChaCha20-Poly1305 for transport data under one key, keeping the backend's per-key context across packets.
/// Empty associated data, nonce = 4 zero bytes ‖ counter LE. Not thread-safe: one owner at a time.
/// </summary>
internal abstract class TransportCipher : IDisposable
{
    public static TransportCipher Create(ReadOnlySpan<byte> key) => throw new NotImplementedException();
    public static TransportCipher Create(ReadOnlySpan<byte> key, TransportCipherBackend backend) => throw new NotImplementedException();
    public abstract TransportCipherBackend Backend { get; }
    /// <summary>Encrypts <paramref name="data"/> in place and writes the 16-byte tag.</summary>
    public abstract void Seal(ulong counter, Span<byte> data, Span<byte> tag);
    /// <summary>Decrypts <paramref name="data"/> in place if the tag verifies; false otherwise.</summary>
    public abstract bool Open(ulong counter, Span<byte> data, ReadOnlySpan<byte> tag);
    /// <summary>Wipes the key and frees native context.</summary>
    public abstract void Dispose();
}
