using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>BLAKE2s (RFC 7693) and the WireGuard constructions over it, on the allocation-free <see cref="Blake2sEngine"/>.</summary>
internal static class Blake2s
{
    public const int HashSize = 32;
    public const int MacSize = 16;
    public const int MaxKeySize = 32;

    // RFC 2104 uses the hash's block size for HMAC padding; BLAKE2s compresses 64-byte blocks.
    private const int HmacBlockSize = 64;
    internal const byte HmacInnerPad = 0x36;
    internal const byte HmacOuterPad = 0x5c;

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> hash) => Hash(data, [], hash);

    /// <summary>HASH(a ‖ b) without concatenating.</summary>
    public static void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> hash)
    {
        CheckOutput(hash.Length, HashSize, nameof(hash));
        var engine = new Blake2sEngine(HashSize);
        engine.Update(a);
        engine.Update(b);
        engine.Finish(hash);
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
        // truncating a 32-byte output would give different bytes.
        var engine = new Blake2sEngine(MacSize, key);
        engine.Update(data);
        engine.Finish(mac);
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

            XorPad(pad, HmacInnerPad);
            var innerEngine = new Blake2sEngine(HashSize);
            innerEngine.Update(pad);
            innerEngine.Update(a);
            innerEngine.Update(b);
            innerEngine.Finish(inner);

            XorPad(pad, HmacInnerPad ^ HmacOuterPad);
            var outerEngine = new Blake2sEngine(HashSize);
            outerEngine.Update(pad);
            outerEngine.Update(inner);
            outerEngine.Finish(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(inner);
        }
    }

    /// <summary>XORs every byte of a 64-byte HMAC pad block with <paramref name="value"/>, 16 bytes at a time.</summary>
    internal static void XorPad(Span<byte> block, int value)
    {
        var mask = Vector128.Create((byte)value);
        for (int i = 0; i < HmacBlockSize; i += Vector128<byte>.Count)
        {
            (Vector128.Create((ReadOnlySpan<byte>)block[i..]) ^ mask).CopyTo(block[i..]);
        }
    }

    private static void CheckOutput(int length, int expected, string paramName)
    {
        if (length != expected)
        {
            throw new ArgumentException($"Output must be {expected} bytes.", paramName);
        }
    }
}
