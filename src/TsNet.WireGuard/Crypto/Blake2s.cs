using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;

namespace TsNet.WireGuard.Crypto;

/// <summary>BLAKE2s (RFC 7693) and the WireGuard constructions over it.</summary>
internal static class Blake2s
{
    public const int HashSize = 32;
    public const int MacSize = 16;
    public const int MaxKeySize = 32;

    // RFC 2104 uses the hash's block size for HMAC padding; BLAKE2s compresses 64-byte blocks.
    private const int HmacBlockSize = 64;
    private const byte HmacInnerPad = 0x36;
    private const byte HmacOuterPad = 0x5c;

    // BouncyCastle 1.8.10 takes arrays only: span input is copied through this chunk buffer.
    private const int ChunkSize = 256;

    [ThreadStatic]
    private static Blake2sDigest? t_digest;

    [ThreadStatic]
    private static byte[]? t_chunk;

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> hash) => Hash(data, [], hash);

    /// <summary>HASH(a ‖ b) without concatenating.</summary>
    public static void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> hash)
    {
        CheckOutput(hash.Length, HashSize, nameof(hash));
        Blake2sDigest digest = t_digest ??= new Blake2sDigest(HashSize * 8);
        digest.Reset();
        Update(digest, a);
        Update(digest, b);
        Final(digest, hash);
    }

    /// <summary>Keyed BLAKE2s with a 16-byte digest length parameter (WireGuard MAC).</summary>
    public static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac)
    {
        if (key.Length > MaxKeySize)
        {
            throw new ArgumentException($"BLAKE2s keys are at most {MaxKeySize} bytes.", nameof(key));
        }

        CheckOutput(mac.Length, MacSize, nameof(mac));
        // The digest length lives in BLAKE2's parameter block, so it must be a 16-byte digest from the start;
        // truncating a 32-byte output would give different bytes. BouncyCastle treats an empty key array as
        // keyed, so pass null for the unkeyed case. The keyed digest holds the key: it is built per call.
        byte[]? keyCopy = key.IsEmpty ? null : key.ToArray();
        try
        {
            var digest = new Blake2sDigest(keyCopy, MacSize, null, null);
            Update(digest, data);
            Final(digest, mac);
            digest.ClearKey();
        }
        finally
        {
            if (keyCopy is not null)
            {
                CryptographicOperations.ZeroMemory(keyCopy);
            }
        }
    }

    /// <summary>RFC 2104 HMAC with BLAKE2s-256 (64-byte block).</summary>
    public static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
        => Hmac(key, data, [], output);

    /// <summary>HMAC(key, a ‖ b) without concatenating.</summary>
    public static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> output)
    {
        CheckOutput(output.Length, HashSize, nameof(output));
        Span<byte> pad = stackalloc byte[HmacBlockSize];
        Span<byte> inner = stackalloc byte[HashSize];
        try
        {
            pad.Clear();
            if (key.Length > HmacBlockSize)
            {
                Hash(key, pad[..HashSize]);
            }
            else
            {
                key.CopyTo(pad);
            }

            Xor(pad, HmacInnerPad);
            Blake2sDigest digest = t_digest ??= new Blake2sDigest(HashSize * 8);
            digest.Reset();
            Update(digest, pad);
            Update(digest, a);
            Update(digest, b);
            Final(digest, inner);

            Xor(pad, HmacInnerPad ^ HmacOuterPad);
            digest.Reset();
            Update(digest, pad);
            Update(digest, inner);
            Final(digest, output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(inner);
        }
    }

    private static void Xor(Span<byte> block, int value)
    {
        for (int i = 0; i < block.Length; i++)
        {
            block[i] ^= (byte)value;
        }
    }

    private static void Update(Blake2sDigest digest, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        byte[] chunk = t_chunk ??= new byte[ChunkSize];
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, ChunkSize);
            data[..n].CopyTo(chunk);
            digest.BlockUpdate(chunk, 0, n);
            data = data[n..];
        }

        // Inputs include keys and chaining values: leave nothing behind in the shared buffer.
        CryptographicOperations.ZeroMemory(chunk);
    }

    private static void Final(Blake2sDigest digest, Span<byte> output)
    {
        byte[] chunk = t_chunk ??= new byte[ChunkSize];
        int n = digest.DoFinal(chunk, 0);
        chunk.AsSpan(0, n).CopyTo(output);
        CryptographicOperations.ZeroMemory(chunk.AsSpan(0, n));
    }

    private static void CheckOutput(int length, int expected, string paramName)
    {
        if (length != expected)
        {
            throw new ArgumentException($"Output must be {expected} bytes.", paramName);
        }
    }
}
