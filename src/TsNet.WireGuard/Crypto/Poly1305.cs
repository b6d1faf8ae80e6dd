using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// Poly1305 one-time authenticator (RFC 8439 §2.5), radix 2^26 with 64-bit products. Ours so that NaCl's
/// secretbox runs on spans without allocating (BouncyCastle 1.8 works on arrays only).
/// </summary>
internal static class Poly1305
{
    public const int KeySize = 32;
    public const int TagSize = 16;
    private const int BlockSize = 16;
    private const uint Mask26 = 0x3ffffff;

    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException("Poly1305 keys are 32 bytes.", nameof(key));
        }

        if (tag.Length != TagSize)
        {
            throw new ArgumentException("Poly1305 tags are 16 bytes.", nameof(tag));
        }

        // r is clamped (RFC 8439 §2.5.1) while being split into five 26-bit limbs.
        uint r0 = BinaryPrimitives.ReadUInt32LittleEndian(key) & 0x3ffffff;
        uint r1 = (BinaryPrimitives.ReadUInt32LittleEndian(key[3..]) >> 2) & 0x3ffff03;
        uint r2 = (BinaryPrimitives.ReadUInt32LittleEndian(key[6..]) >> 4) & 0x3ffc0ff;
        uint r3 = (BinaryPrimitives.ReadUInt32LittleEndian(key[9..]) >> 6) & 0x3f03fff;
        uint r4 = (BinaryPrimitives.ReadUInt32LittleEndian(key[12..]) >> 8) & 0x00fffff;
        uint s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
        uint h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0;

        Span<byte> last = stackalloc byte[BlockSize];
        while (message.Length > 0)
        {
            scoped ReadOnlySpan<byte> m;
            uint hibit;
            if (message.Length >= BlockSize)
            {
                m = message[..BlockSize];
                message = message[BlockSize..];
                hibit = 1u << 24;
            }
            else
            {
                // A final partial block gets a 1 byte appended and zero padding instead of the 2^128 bit.
                last.Clear();
                message.CopyTo(last);
                last[message.Length] = 1;
                m = last;
                message = default;
                hibit = 0;
            }

            h0 += BinaryPrimitives.ReadUInt32LittleEndian(m) & Mask26;
            h1 += (BinaryPrimitives.ReadUInt32LittleEndian(m[3..]) >> 2) & Mask26;
            h2 += (BinaryPrimitives.ReadUInt32LittleEndian(m[6..]) >> 4) & Mask26;
            h3 += (BinaryPrimitives.ReadUInt32LittleEndian(m[9..]) >> 6) & Mask26;
            h4 += (BinaryPrimitives.ReadUInt32LittleEndian(m[12..]) >> 8) | hibit;

            ulong d0 = ((ulong)h0 * r0) + ((ulong)h1 * s4) + ((ulong)h2 * s3) + ((ulong)h3 * s2) + ((ulong)h4 * s1);
            ulong d1 = ((ulong)h0 * r1) + ((ulong)h1 * r0) + ((ulong)h2 * s4) + ((ulong)h3 * s3) + ((ulong)h4 * s2);
            ulong d2 = ((ulong)h0 * r2) + ((ulong)h1 * r1) + ((ulong)h2 * r0) + ((ulong)h3 * s4) + ((ulong)h4 * s3);
            ulong d3 = ((ulong)h0 * r3) + ((ulong)h1 * r2) + ((ulong)h2 * r1) + ((ulong)h3 * r0) + ((ulong)h4 * s4);
            ulong d4 = ((ulong)h0 * r4) + ((ulong)h1 * r3) + ((ulong)h2 * r2) + ((ulong)h3 * r1) + ((ulong)h4 * r0);

            ulong c = d0 >> 26; h0 = (uint)d0 & Mask26;
            d1 += c; c = d1 >> 26; h1 = (uint)d1 & Mask26;
            d2 += c; c = d2 >> 26; h2 = (uint)d2 & Mask26;
            d3 += c; c = d3 >> 26; h3 = (uint)d3 & Mask26;
            d4 += c; c = d4 >> 26; h4 = (uint)d4 & Mask26;
            h0 += (uint)c * 5; h1 += h0 >> 26; h0 &= Mask26;
        }

        CryptographicOperations.ZeroMemory(last);

        // Fully carry h, then compute h - p and keep it when it does not borrow (constant time).
        uint carry = h1 >> 26; h1 &= Mask26;
        h2 += carry; carry = h2 >> 26; h2 &= Mask26;
        h3 += carry; carry = h3 >> 26; h3 &= Mask26;
        h4 += carry; carry = h4 >> 26; h4 &= Mask26;
        h0 += carry * 5; carry = h0 >> 26; h0 &= Mask26;
        h1 += carry;

        uint g0 = h0 + 5; carry = g0 >> 26; g0 &= Mask26;
        uint g1 = h1 + carry; carry = g1 >> 26; g1 &= Mask26;
        uint g2 = h2 + carry; carry = g2 >> 26; g2 &= Mask26;
        uint g3 = h3 + carry; carry = g3 >> 26; g3 &= Mask26;
        uint g4 = h4 + carry - (1u << 26);

        uint select = (g4 >> 31) - 1; // all ones when h >= p
        g0 &= select; g1 &= select; g2 &= select; g3 &= select; g4 &= select;
        select = ~select;
        h0 = (h0 & select) | g0;
        h1 = (h1 & select) | g1;
        h2 = (h2 & select) | g2;
        h3 = (h3 & select) | g3;
        h4 = (h4 & select) | g4;

        // h mod 2^128, then + s.
        uint w0 = h0 | (h1 << 26);
        uint w1 = (h1 >> 6) | (h2 << 20);
        uint w2 = (h2 >> 12) | (h3 << 14);
        uint w3 = (h3 >> 18) | (h4 << 8);

        ulong f = (ulong)w0 + BinaryPrimitives.ReadUInt32LittleEndian(key[16..]);
        BinaryPrimitives.WriteUInt32LittleEndian(tag, (uint)f);
        f = (ulong)w1 + BinaryPrimitives.ReadUInt32LittleEndian(key[20..]) + (f >> 32);
        BinaryPrimitives.WriteUInt32LittleEndian(tag[4..], (uint)f);
        f = (ulong)w2 + BinaryPrimitives.ReadUInt32LittleEndian(key[24..]) + (f >> 32);
        BinaryPrimitives.WriteUInt32LittleEndian(tag[8..], (uint)f);
        f = (ulong)w3 + BinaryPrimitives.ReadUInt32LittleEndian(key[28..]) + (f >> 32);
        BinaryPrimitives.WriteUInt32LittleEndian(tag[12..], (uint)f);
    }
}
