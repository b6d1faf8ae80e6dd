using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// HMAC-BLAKE2s under one key with the key's inner and outer pad blocks compressed once, for a key that MACs
/// several messages — the KDF's pseudorandom key, which expands two or three outputs. Each MAC then costs the
/// compressions of its message and of the inner digest only (two for WireGuard's short inputs, not four).
/// Stack-only; <see cref="Clear"/> wipes the keyed states.
/// </summary>
internal struct Blake2sHmac
{
    private Blake2sEngine _inner;
    private Blake2sEngine _outer;

    /// <summary>Keys the two states with <paramref name="key"/> (at most one 64-byte block, as every WireGuard key is).</summary>
    public Blake2sHmac(ReadOnlySpan<byte> key)
    {
        if (key.Length > Blake2sEngine.BlockSize)
        {
            throw new ArgumentException($"Prepared HMAC keys are at most {Blake2sEngine.BlockSize} bytes.", nameof(key));
        }

        Span<byte> pad = stackalloc byte[Blake2sEngine.BlockSize];
        try
        {
            pad.Clear();
            key.CopyTo(pad);
            Blake2s.XorPad(pad, Blake2s.HmacInnerPad);
            _inner = new Blake2sEngine(Blake2s.HashSize);
            _inner.AbsorbFirstBlock(pad);
            Blake2s.XorPad(pad, Blake2s.HmacInnerPad ^ Blake2s.HmacOuterPad);
            _outer = new Blake2sEngine(Blake2s.HashSize);
            _outer.AbsorbFirstBlock(pad);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
        }
    }

    /// <summary>
    /// HMAC(key, a ‖ b). The message must not be empty: the prepared inner state has its pad block compressed as a
    /// block that more input follows, which an empty message would have to flag as the last one.
    /// </summary>
    public readonly void Compute(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> output)
    {
        if (a.IsEmpty && b.IsEmpty)
        {
            throw new ArgumentException("A prepared HMAC needs a non-empty message.", nameof(a));
        }

        if (output.Length != Blake2s.HashSize)
        {
            throw new ArgumentException($"Output must be {Blake2s.HashSize} bytes.", nameof(output));
        }

        Span<byte> digest = stackalloc byte[Blake2s.HashSize];
        var inner = _inner;
        inner.Update(a);
        inner.Update(b);
        inner.Finish(digest);
        var outer = _outer;
        outer.Update(digest);
        outer.Finish(output);
        CryptographicOperations.ZeroMemory(digest);
    }

    /// <summary>Wipes both keyed states.</summary>
    public void Clear() => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(new Span<Blake2sHmac>(ref this)));
}
