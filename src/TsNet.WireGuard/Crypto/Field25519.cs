using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
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
/// Constant time: no branch and no memory index depends on a limb value; the code is straight-line arithmetic
/// (64×64→128-bit multiplies, shifts, masks, additions), with nothing the JIT could turn into a data-dependent
/// jump. Each 128-bit product is split at bit 51 as soon as it is formed, and the two parts are summed into
/// adjacent 64-bit columns, so no 128-bit addition (and no carry comparison) is ever needed.
/// </para>
/// <para>
/// Limb bounds (what keeps every column sum inside 64 bits):
/// "reduced" elements — outputs of <see cref="FromBytes"/>, <see cref="Mul"/>, <see cref="Square"/>,
/// <see cref="MulSmall"/>, <see cref="Invert"/> — have limbs of at most 2^51;
/// "loose" elements — outputs of <see cref="Add"/> and <see cref="Sub"/> of reduced operands — have limbs
/// below 2^53. Mul, Square, MulSmall and ToBytes accept loose operands; the operands of Add and Sub must be
/// reduced. The representation is not unique: only <see cref="ToBytes"/> yields the canonical value in [0, p).
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
    // while every subtrahend limb is at most 2^51, i.e. the subtrahend is reduced.
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

        // 19·b_j < 2^58 for loose limbs, so the pre-multiplication stays in 64 bits.
        ulong b1x19 = b1 * 19, b2x19 = b2 * 19, b3x19 = b3 * 19, b4x19 = b4 * 19;

        // s_k collects weight 2^(51k): the low 51 bits of that column's products and the high parts of the
        // column below (s5, weight 2^255, folds into s0 as ×19).
        ulong s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
        MulAdd(ref s0, ref s1, a0, b0);
        MulAdd(ref s0, ref s1, a1, b4x19);
        MulAdd(ref s0, ref s1, a2, b3x19);
        MulAdd(ref s0, ref s1, a3, b2x19);
        MulAdd(ref s0, ref s1, a4, b1x19);

        MulAdd(ref s1, ref s2, a0, b1);
        MulAdd(ref s1, ref s2, a1, b0);
        MulAdd(ref s1, ref s2, a2, b4x19);
        MulAdd(ref s1, ref s2, a3, b3x19);
        MulAdd(ref s1, ref s2, a4, b2x19);

        MulAdd(ref s2, ref s3, a0, b2);
        MulAdd(ref s2, ref s3, a1, b1);
        MulAdd(ref s2, ref s3, a2, b0);
        MulAdd(ref s2, ref s3, a3, b4x19);
        MulAdd(ref s2, ref s3, a4, b3x19);

        MulAdd(ref s3, ref s4, a0, b3);
        MulAdd(ref s3, ref s4, a1, b2);
        MulAdd(ref s3, ref s4, a2, b1);
        MulAdd(ref s3, ref s4, a3, b0);
        MulAdd(ref s3, ref s4, a4, b4x19);

        MulAdd(ref s4, ref s5, a0, b4);
        MulAdd(ref s4, ref s5, a1, b3);
        MulAdd(ref s4, ref s5, a2, b2);
        MulAdd(ref s4, ref s5, a3, b1);
        MulAdd(ref s4, ref s5, a4, b0);

        result = Carry(s0, s1, s2, s3, s4, s5);
    }

    /// <summary>a², with the symmetric cross products computed once and doubled (15 multiplies instead of 25).</summary>
    public static void Square(out Field25519 result, in Field25519 a)
    {
        ulong a0 = a._l0, a1 = a._l1, a2 = a._l2, a3 = a._l3, a4 = a._l4;
        ulong a0x2 = a0 * 2, a1x2 = a1 * 2, a2x2 = a2 * 2, a3x2 = a3 * 2;
        ulong a3x19 = a3 * 19, a4x19 = a4 * 19;

        ulong s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;

        // a0² + 38(a1·a4 + a2·a3)
        MulAdd(ref s0, ref s1, a0, a0);
        MulAdd(ref s0, ref s1, a1x2, a4x19);
        MulAdd(ref s0, ref s1, a2x2, a3x19);

        // 2·a0·a1 + 38·a2·a4 + 19·a3²
        MulAdd(ref s1, ref s2, a0x2, a1);
        MulAdd(ref s1, ref s2, a2x2, a4x19);
        MulAdd(ref s1, ref s2, a3, a3x19);

        // 2·a0·a2 + a1² + 38·a3·a4
        MulAdd(ref s2, ref s3, a0x2, a2);
        MulAdd(ref s2, ref s3, a1, a1);
        MulAdd(ref s2, ref s3, a3x2, a4x19);

        // 2·a0·a3 + 2·a1·a2 + 19·a4²
        MulAdd(ref s3, ref s4, a0x2, a3);
        MulAdd(ref s3, ref s4, a1x2, a2);
        MulAdd(ref s3, ref s4, a4, a4x19);

        // 2·a0·a4 + 2·a1·a3 + a2²
        MulAdd(ref s4, ref s5, a0x2, a4);
        MulAdd(ref s4, ref s5, a1x2, a3);
        MulAdd(ref s4, ref s5, a2, a2);

        result = Carry(s0, s1, s2, s3, s4, s5);
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
        ulong s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
        MulAdd(ref s0, ref s1, a._l0, k);
        MulAdd(ref s1, ref s2, a._l1, k);
        MulAdd(ref s2, ref s3, a._l2, k);
        MulAdd(ref s3, ref s4, a._l3, k);
        MulAdd(ref s4, ref s5, a._l4, k);
        result = Carry(s0, s1, s2, s3, s4, s5);
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

    /// <summary>
    /// inverses[i] = 1/values[i] for every i with one <see cref="Invert"/> (Montgomery's trick): the running products
    /// of the values, the inverse of the last, then back down, each step peeling one factor off. For public values
    /// only (the intermediates are not wiped), and every value must be nonzero (one zero makes every result zero).
    /// <paramref name="inverses"/> may be <paramref name="values"/> itself.
    /// </summary>
    public static void InvertBatch(ReadOnlySpan<Field25519> values, Span<Field25519> inverses)
    {
        if (inverses.Length != values.Length)
        {
            throw new ArgumentException("One inverse per value.", nameof(inverses));
        }

        // products[i] = values[0] · … · values[i − 1]; kept apart from inverses, which may alias values.
        var products = new Field25519[values.Length];
        Field25519 running = One;
        for (int i = 0; i < values.Length; i++)
        {
            products[i] = running;
            Mul(out running, running, values[i]);
        }

        Invert(out var inverse, running);               // 1/(values[0] · … · values[n − 1])
        for (int i = values.Length - 1; i >= 0; i--)
        {
            var value = values[i];                      // read before inverses[i] (maybe the same slot) is written
            Mul(out inverses[i], products[i], inverse); // 1/values[i]
            Mul(out inverse, inverse, value);           // 1/(values[0] · … · values[i − 1])
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

    // Splits the 128-bit product a·b at bit 51: the low 51 bits go to this column, the rest (weight 2^51 higher)
    // to the next. Each part fits comfortably in 64 bits, so the column sums need no carry handling of their own.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MulAdd(ref ulong column, ref ulong next, ulong a, ulong b)
    {
        ulong low = a * b;
        column += low & Mask51;
        next += (MultiplyHigh(a, b) << 13) | (low >> 51);
    }

    // The upper half of the 128-bit product. Math.BigMul returns the lower half through a pointer, which the JIT
    // keeps in memory; a second multiply for the lower half is cheaper than that store and reload.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MultiplyHigh(ulong a, ulong b)
    {
        if (Bmi2.X64.IsSupported)
        {
            return Bmi2.X64.MultiplyNoFlags(a, b);
        }

        if (ArmBase.Arm64.IsSupported)
        {
            return ArmBase.Arm64.MultiplyHigh(a, b);
        }

        return Math.BigMul(a, b, out _);
    }

    // Column sums to limbs. With loose operands (limbs below 2^53, ×19 multiples below 2^58) no product reaches
    // 2^112 (Square's doubled ×19 terms are the largest), so a column receives at most five parts above bit 51
    // below 2^60 each in Mul, or three below 2^61 in Square, plus five low parts below 2^51: under 2^63. s5
    // (weight 2^255) has no ×19 terms and stays below 2^58, so 19·s5 fits too. One carry pass, folding the top
    // carry back as ×19, and one more carry out of limb 0 leave every limb at most 2^51.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Field25519 Carry(ulong s0, ulong s1, ulong s2, ulong s3, ulong s4, ulong s5)
    {
        s0 += s5 * 19;
        s1 += s0 >> 51;
        s0 &= Mask51;
        s2 += s1 >> 51;
        s1 &= Mask51;
        s3 += s2 >> 51;
        s2 &= Mask51;
        s4 += s3 >> 51;
        s3 &= Mask51;
        s0 += (s4 >> 51) * 19;
        s4 &= Mask51;
        s1 += s0 >> 51;
        s0 &= Mask51;
        return new Field25519(s0, s1, s2, s3, s4);
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
