using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// An element of GF(2^255 - 19) as five unsigned 51-bit limbs (value = Σ limb[i]·2^(51·i)), for X25519.
/// </summary>
/// <remarks>
/// <para>
/// A plain struct so that X25519 needs no heap memory: WireGuard computes two DHs for every handshake
/// initiation, including replayed or forged ones an attacker can send at will.
/// </para>
/// <para>
/// Constant time: no branch and no memory index depends on a limb value. Products use
/// <see cref="Math.BigMul(ulong, ulong, out ulong)"/> (a single hardware multiply on 64-bit targets) and the
/// 128-bit sums carry arithmetically instead of through comparisons, so there is nothing the JIT could turn
/// into a data-dependent jump.
/// </para>
/// <para>
/// Limb bounds (what keeps every intermediate inside 64/128 bits):
/// "reduced" elements — outputs of <see cref="FromBytes"/>, <see cref="Mul"/>, <see cref="Square"/>,
/// <see cref="MulSmall"/>, <see cref="Invert"/> — have limbs below 2^51 + 2^13;
/// "loose" elements — outputs of <see cref="Add"/> and <see cref="Sub"/> of reduced operands — have limbs
/// below 2^53. Mul, Square, MulSmall and ToBytes accept loose operands; the operands of Add and Sub must be
/// reduced. The representation is not unique: only <see cref="ToBytes"/> yields the canonical
/// value in [0, p).
/// </para>
/// <para>
/// Every operation reads all of its operands before it writes its result, so the result may alias an operand.
/// </para>
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct Field25519
{
    public const int Size = 32;

    private const ulong Mask51 = (1UL << 51) - 1;

    // 2p limb by limb (2^52 - 38, then 2^52 - 2): added before subtracting so no limb goes negative, which holds
    // while every subtrahend limb is below 2^52 - 38, i.e. the subtrahend is reduced.
    private const ulong TwoP0 = 0xFFFFFFFFFFFDA;
    private const ulong TwoP1234 = 0xFFFFFFFFFFFFE;

    private ulong _l0;
    private ulong _l1;
    private ulong _l2;
    private ulong _l3;
    private ulong _l4;

    private Field25519(ulong l0, ulong l1, ulong l2, ulong l3, ulong l4)
    {
        _l0 = l0;
        _l1 = l1;
        _l2 = l2;
        _l3 = l3;
        _l4 = l4;
    }

    public static Field25519 Zero => default;

    public static Field25519 One => new(1, 0, 0, 0, 0);

    /// <summary>
    /// Decodes 32 little-endian bytes, ignoring bit 255 as RFC 7748 §5 requires for u-coordinates. Values in
    /// [p, 2^255) are accepted unchanged: they are congruent to their reduction, which is all the arithmetic needs.
    /// </summary>
    public static void FromBytes(ReadOnlySpan<byte> source, out Field25519 result)
    {
        if (source.Length != Size)
        {
            throw new ArgumentException($"Field elements are {Size} bytes.", nameof(source));
        }

        ulong w0 = BinaryPrimitives.ReadUInt64LittleEndian(source);
        ulong w1 = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        ulong w2 = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]);
        ulong w3 = BinaryPrimitives.ReadUInt64LittleEndian(source[24..]);
        result = new Field25519(
            w0 & Mask51,
            ((w0 >> 51) | (w1 << 13)) & Mask51,
            ((w1 >> 38) | (w2 << 26)) & Mask51,
            ((w2 >> 25) | (w3 << 39)) & Mask51,
            (w3 >> 12) & Mask51); // drops bit 255
    }

    /// <summary>Encodes the canonical representative in [0, p) as 32 little-endian bytes.</summary>
    public readonly void ToBytes(Span<byte> destination)
    {
        if (destination.Length != Size)
        {
            throw new ArgumentException($"Field elements are {Size} bytes.", nameof(destination));
        }

        ulong l0 = _l0, l1 = _l1, l2 = _l2, l3 = _l3, l4 = _l4;

        // One carry pass, folding 2^255 back in as 19: l1..l4 < 2^51 and l0 < 2^51 + 2^9, so the value h is
        // below 2^255 + 2^9 < 2p and at most one subtraction of p remains.
        ulong c = l0 >> 51;
        l0 &= Mask51;
        l1 += c;
        c = l1 >> 51;
        l1 &= Mask51;
        l2 += c;
        c = l2 >> 51;
        l2 &= Mask51;
        l3 += c;
        c = l3 >> 51;
        l3 &= Mask51;
        l4 += c;
        c = l4 >> 51;
        l4 &= Mask51;
        l0 += c * 19;

        // q = floor((h + 19) / 2^255) is 1 exactly when h >= p; found by carrying 19 through without storing.
        ulong q = (l0 + 19) >> 51;
        q = (l1 + q) >> 51;
        q = (l2 + q) >> 51;
        q = (l3 + q) >> 51;
        q = (l4 + q) >> 51;

        // h - q·p = h + 19q - q·2^255: add 19q, carry, and drop bit 255.
        l0 += 19 * q;
        c = l0 >> 51;
        l0 &= Mask51;
        l1 += c;
        c = l1 >> 51;
        l1 &= Mask51;
        l2 += c;
        c = l2 >> 51;
        l2 &= Mask51;
        l3 += c;
        c = l3 >> 51;
        l3 &= Mask51;
        l4 = (l4 + c) & Mask51;

        BinaryPrimitives.WriteUInt64LittleEndian(destination, l0 | (l1 << 51));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (l1 >> 13) | (l2 << 38));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], (l2 >> 26) | (l3 << 25));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], (l3 >> 39) | (l4 << 12));
    }

    /// <summary>a + b without carrying (reduced operands give a loose result).</summary>
    public static void Add(out Field25519 result, in Field25519 a, in Field25519 b) =>
        result = new Field25519(a._l0 + b._l0, a._l1 + b._l1, a._l2 + b._l2, a._l3 + b._l3, a._l4 + b._l4);

    /// <summary>a - b computed as a + 2p - b (reduced operands give a loose result).</summary>
    public static void Sub(out Field25519 result, in Field25519 a, in Field25519 b) =>
        result = new Field25519(
            a._l0 + TwoP0 - b._l0,
            a._l1 + TwoP1234 - b._l1,
            a._l2 + TwoP1234 - b._l2,
            a._l3 + TwoP1234 - b._l3,
            a._l4 + TwoP1234 - b._l4);

    /// <summary>a · b (schoolbook; the limbs at and above 2^255 fold back multiplied by 19).</summary>
    public static void Mul(out Field25519 result, in Field25519 a, in Field25519 b)
    {
        ulong a0 = a._l0, a1 = a._l1, a2 = a._l2, a3 = a._l3, a4 = a._l4;
        ulong b0 = b._l0, b1 = b._l1, b2 = b._l2, b3 = b._l3, b4 = b._l4;

        // 19·b_j < 2^59 for loose limbs, so the pre-multiplication stays in 64 bits.
        ulong b1x19 = b1 * 19, b2x19 = b2 * 19, b3x19 = b3 * 19, b4x19 = b4 * 19;

        ulong h0 = Math.BigMul(a0, b0, out ulong r0);
        MulAdd(ref h0, ref r0, a1, b4x19);
        MulAdd(ref h0, ref r0, a2, b3x19);
        MulAdd(ref h0, ref r0, a3, b2x19);
        MulAdd(ref h0, ref r0, a4, b1x19);

        ulong h1 = Math.BigMul(a0, b1, out ulong r1);
        MulAdd(ref h1, ref r1, a1, b0);
        MulAdd(ref h1, ref r1, a2, b4x19);
        MulAdd(ref h1, ref r1, a3, b3x19);
        MulAdd(ref h1, ref r1, a4, b2x19);

        ulong h2 = Math.BigMul(a0, b2, out ulong r2);
        MulAdd(ref h2, ref r2, a1, b1);
        MulAdd(ref h2, ref r2, a2, b0);
        MulAdd(ref h2, ref r2, a3, b4x19);
        MulAdd(ref h2, ref r2, a4, b3x19);

        ulong h3 = Math.BigMul(a0, b3, out ulong r3);
        MulAdd(ref h3, ref r3, a1, b2);
        MulAdd(ref h3, ref r3, a2, b1);
        MulAdd(ref h3, ref r3, a3, b0);
        MulAdd(ref h3, ref r3, a4, b4x19);

        ulong h4 = Math.BigMul(a0, b4, out ulong r4);
        MulAdd(ref h4, ref r4, a1, b3);
        MulAdd(ref h4, ref r4, a2, b2);
        MulAdd(ref h4, ref r4, a3, b1);
        MulAdd(ref h4, ref r4, a4, b0);

        result = Carry(h0, r0, h1, r1, h2, r2, h3, r3, h4, r4);
    }

    /// <summary>a², with the symmetric cross products computed once and doubled (15 multiplies instead of 25).</summary>
    public static void Square(out Field25519 result, in Field25519 a)
    {
        ulong a0 = a._l0, a1 = a._l1, a2 = a._l2, a3 = a._l3, a4 = a._l4;
        ulong a0x2 = a0 * 2, a1x2 = a1 * 2, a2x2 = a2 * 2, a3x2 = a3 * 2;
        ulong a3x19 = a3 * 19, a4x19 = a4 * 19;

        // r0 = a0² + 38(a1·a4 + a2·a3)
        ulong h0 = Math.BigMul(a0, a0, out ulong r0);
        MulAdd(ref h0, ref r0, a1x2, a4x19);
        MulAdd(ref h0, ref r0, a2x2, a3x19);

        // r1 = 2·a0·a1 + 38·a2·a4 + 19·a3²
        ulong h1 = Math.BigMul(a0x2, a1, out ulong r1);
        MulAdd(ref h1, ref r1, a2x2, a4x19);
        MulAdd(ref h1, ref r1, a3, a3x19);

        // r2 = 2·a0·a2 + a1² + 38·a3·a4
        ulong h2 = Math.BigMul(a0x2, a2, out ulong r2);
        MulAdd(ref h2, ref r2, a1, a1);
        MulAdd(ref h2, ref r2, a3x2, a4x19);

        // r3 = 2·a0·a3 + 2·a1·a2 + 19·a4²
        ulong h3 = Math.BigMul(a0x2, a3, out ulong r3);
        MulAdd(ref h3, ref r3, a1x2, a2);
        MulAdd(ref h3, ref r3, a4, a4x19);

        // r4 = 2·a0·a4 + 2·a1·a3 + a2²
        ulong h4 = Math.BigMul(a0x2, a4, out ulong r4);
        MulAdd(ref h4, ref r4, a1x2, a3);
        MulAdd(ref h4, ref r4, a2, a2);

        result = Carry(h0, r0, h1, r1, h2, r2, h3, r3, h4, r4);
    }

    /// <summary>a^(2^count): repeated squaring for the inversion chain (count is public).</summary>
    public static void SquareTimes(out Field25519 result, in Field25519 a, int count)
    {
        Square(out result, a);
        for (int i = 1; i < count; i++)
        {
            Square(out result, result);
        }
    }

    /// <summary>a · k for a small constant k (below 2^32), e.g. the ladder's a24.</summary>
    public static void MulSmall(out Field25519 result, in Field25519 a, uint k)
    {
        ulong h0 = Math.BigMul(a._l0, k, out ulong r0);
        ulong h1 = Math.BigMul(a._l1, k, out ulong r1);
        ulong h2 = Math.BigMul(a._l2, k, out ulong r2);
        ulong h3 = Math.BigMul(a._l3, k, out ulong r3);
        ulong h4 = Math.BigMul(a._l4, k, out ulong r4);
        result = Carry(h0, r0, h1, r1, h2, r2, h3, r3, h4, r4);
    }

    /// <summary>
    /// z^(p-2) = z^-1 by Fermat (0 maps to 0), using the standard chain of 254 squarings and 11 multiplications
    /// for p - 2 = 2^255 - 21. The exponent is public, so the sequence of operations is fixed.
    /// </summary>
    public static void Invert(out Field25519 result, in Field25519 z)
    {
        // The temporaries are powers of a secret; they live in one struct so they can be wiped as a whole
        // (stores into a plain local that is never read again may be removed by the JIT).
        InversionTemporaries t = default;
        try
        {
            Square(out t.Z2, z);                         // z^2
            SquareTimes(out t.T, t.Z2, 2);               // z^8
            Mul(out t.Z9, t.T, z);                       // z^9
            Mul(out t.Z11, t.Z9, t.Z2);                  // z^11
            Square(out t.T, t.Z11);                      // z^22
            Mul(out t.Z5, t.T, t.Z9);                    // z^(2^5 - 1)
            SquareTimes(out t.T, t.Z5, 5);
            Mul(out t.Z10, t.T, t.Z5);                   // z^(2^10 - 1)
            SquareTimes(out t.T, t.Z10, 10);
            Mul(out t.Z20, t.T, t.Z10);                  // z^(2^20 - 1)
            SquareTimes(out t.T, t.Z20, 20);
            Mul(out t.T, t.T, t.Z20);                    // z^(2^40 - 1)
            SquareTimes(out t.T, t.T, 10);
            Mul(out t.Z50, t.T, t.Z10);                  // z^(2^50 - 1)
            SquareTimes(out t.T, t.Z50, 50);
            Mul(out t.Z100, t.T, t.Z50);                 // z^(2^100 - 1)
            SquareTimes(out t.T, t.Z100, 100);
            Mul(out t.T, t.T, t.Z100);                   // z^(2^200 - 1)
            SquareTimes(out t.T, t.T, 50);
            Mul(out t.T, t.T, t.Z50);                    // z^(2^250 - 1)
            SquareTimes(out t.T, t.T, 5);                // z^(2^255 - 2^5)
            Mul(out result, t.T, t.Z11);                 // z^(2^255 - 21)
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(new Span<InversionTemporaries>(ref t)));
        }
    }

    /// <summary>Swaps a and b when swap is 1, leaves them when it is 0, with the same instructions either way.</summary>
    public static void ConditionalSwap(ref Field25519 a, ref Field25519 b, ulong swap)
    {
        ulong mask = 0UL - swap;
        ulong t = mask & (a._l0 ^ b._l0);
        a._l0 ^= t;
        b._l0 ^= t;
        t = mask & (a._l1 ^ b._l1);
        a._l1 ^= t;
        b._l1 ^= t;
        t = mask & (a._l2 ^ b._l2);
        a._l2 ^= t;
        b._l2 ^= t;
        t = mask & (a._l3 ^ b._l3);
        a._l3 ^= t;
        b._l3 ^= t;
        t = mask & (a._l4 ^ b._l4);
        a._l4 ^= t;
        b._l4 ^= t;
    }

    // hi:lo += a·b. The carry out of the low word is the majority of the top bits of (lo, p, lo + p), computed
    // with bit operations rather than `sum < lo`, which the compiler emits as a branch.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MulAdd(ref ulong hi, ref ulong lo, ulong a, ulong b)
    {
        ulong productHi = Math.BigMul(a, b, out ulong productLo);
        ulong sum = lo + productLo;
        hi += productHi + (((lo & productLo) | ((lo | productLo) & ~sum)) >> 63);
        lo = sum;
    }

    // Reduces five 128-bit column sums (each below 2^115) to limbs below 2^51 (limb 1 below 2^51 + 2^13):
    // carry column to column, fold the carry out of the top (weight 2^255) back into limb 0 as ×19, then carry
    // limb 0 once more.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Field25519 Carry(ulong h0, ulong r0, ulong h1, ulong r1, ulong h2, ulong r2, ulong h3, ulong r3, ulong h4, ulong r4)
    {
        ulong c = (h0 << 13) | (r0 >> 51);
        ulong l0 = r0 & Mask51;
        AddCarry(ref h1, ref r1, c);
        c = (h1 << 13) | (r1 >> 51);
        ulong l1 = r1 & Mask51;
        AddCarry(ref h2, ref r2, c);
        c = (h2 << 13) | (r2 >> 51);
        ulong l2 = r2 & Mask51;
        AddCarry(ref h3, ref r3, c);
        c = (h3 << 13) | (r3 >> 51);
        ulong l3 = r3 & Mask51;
        AddCarry(ref h4, ref r4, c);
        c = (h4 << 13) | (r4 >> 51); // column 4 has no ×19 terms, so this is below 2^59 and 19c fits
        ulong l4 = r4 & Mask51;
        l0 += c * 19;
        l1 += l0 >> 51;
        l0 &= Mask51;
        return new Field25519(l0, l1, l2, l3, l4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddCarry(ref ulong hi, ref ulong lo, ulong value)
    {
        ulong sum = lo + value;
        hi += ((lo & value) | ((lo | value) & ~sum)) >> 63;
        lo = sum;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct InversionTemporaries
    {
        public Field25519 Z2;
        public Field25519 Z9;
        public Field25519 Z11;
        public Field25519 Z5;
        public Field25519 Z10;
        public Field25519 Z20;
        public Field25519 Z50;
        public Field25519 Z100;
        public Field25519 T;
    }
}
