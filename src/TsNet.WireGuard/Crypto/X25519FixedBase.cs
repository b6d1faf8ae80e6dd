using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// X25519(k, 9) — a public key — as a fixed-base multiplication on the birationally equivalent twisted Edwards
/// curve (RFC 7748 §4.1): k·B from a table of the multiples 1..8 of 256^j·B (j = 0..31), 64 mixed additions and
/// four doublings instead of the ladder's 255 steps, then u = (1 + y)/(1 − y). The table is built on first use.
/// </summary>
/// <remarks>
/// Constant time: the scalar is recoded into 64 signed radix-16 digits in [−8, 8]; each addition reads all eight
/// table entries of its position and keeps one with masks, and negation is a masked swap, so neither memory
/// addresses nor branches depend on the key. Secret intermediates live in one struct wiped at the end.
/// Limb discipline (<see cref="Field25519"/>): Add/Sub only ever see outputs of Mul/Square/MulSmall (reduced);
/// their loose outputs only feed Mul, Square, MulSmall or Invert.
/// </remarks>
internal static class X25519FixedBase
{
    private const int Positions = 32;
    private const int Multiples = 8;

    // Words (ulong) per table entry: three field elements of five limbs, padded to 128 bytes.
    private const int NielsWords = 16;

    // RFC 8032 §5.1: the base point's x, 15112221349535400772501151409588531511454012693041857206046113283949847762202,
    // little-endian (y = 4/5 is computed). The table build checks that (x, y) lies on the curve.
    private static ReadOnlySpan<byte> BaseX =>
    [
        0x1a, 0xd5, 0x25, 0x8f, 0x60, 0x2d, 0x56, 0xc9, 0xb2, 0xa7, 0x25, 0x95, 0x60, 0xc7, 0x2c, 0x69,
        0x5c, 0xdc, 0xd6, 0xfd, 0x31, 0xe2, 0xa4, 0xc0, 0xfe, 0x53, 0x6e, 0xcd, 0xd3, 0x36, 0x69, 0x21,
    ];

    private static readonly Lazy<Niels[]> s_table = new(BuildTable);

    /// <summary>X25519(<paramref name="privateKey"/>, 9); the key is clamped here (a copy), as X25519 does.</summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        if (privateKey.Length != X25519.KeySize || publicKey.Length != X25519.KeySize)
        {
            throw new ArgumentException($"X25519 keys are {X25519.KeySize} bytes.");
        }

        var table = s_table.Value;
        Secrets s = default;
        try
        {
            privateKey.CopyTo(s.Scalar);
            X25519.ClampPrivateKey(s.Scalar);
            Recode(s.Scalar, s.Digits);

            s.H = Extended.Identity;
            for (int i = 1; i < 64; i += 2)
            {
                Select(table, i / 2, s.Digits[i], ref s.Entry, ref s.Negated);
                AddMixed(ref s.H, s.Entry, ref s.Temporaries);
            }

            Double(ref s.H, ref s.Temporaries);
            Double(ref s.H, ref s.Temporaries);
            Double(ref s.H, ref s.Temporaries);
            Double(ref s.H, ref s.Temporaries);
            for (int i = 0; i < 64; i += 2)
            {
                Select(table, i / 2, s.Digits[i], ref s.Entry, ref s.Negated);
                AddMixed(ref s.H, s.Entry, ref s.Temporaries);
            }

            // u = (1 + y)/(1 − y) = (Z + Y)/(Z − Y).
            Field25519.Add(out s.Temporaries.A, s.H.Z, s.H.Y);
            Field25519.Sub(out s.Temporaries.B, s.H.Z, s.H.Y);
            Field25519.Invert(out s.Temporaries.C, s.Temporaries.B);
            Field25519.Mul(out s.Temporaries.D, s.Temporaries.A, s.Temporaries.C);
            s.Temporaries.D.ToBytes(publicKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(new Span<Secrets>(ref s)));
        }
    }

    // a = Σ digits[i]·16^i with every digit in [−8, 8]: the clamped scalar is below 2^255, so the top digit
    // absorbs the last carry without leaving the range.
    private static void Recode(ReadOnlySpan<byte> scalar, Span<sbyte> digits)
    {
        for (int i = 0; i < 32; i++)
        {
            digits[2 * i] = (sbyte)(scalar[i] & 15);
            digits[(2 * i) + 1] = (sbyte)(scalar[i] >> 4);
        }

        int carry = 0;
        for (int i = 0; i < 63; i++)
        {
            int digit = digits[i] + carry;
            carry = (digit + 8) >> 4;
            digits[i] = (sbyte)(digit - (carry << 4));
        }

        digits[63] = (sbyte)(digits[63] + carry);
    }

    // entry = digit · 256^position · B as (y + x, y − x, 2d·x·y), reading all eight multiples of the position:
    // each entry is 16 words (15 limbs and padding), kept or dropped with a full-width mask, eight vectors at a time.
    private static void Select(Niels[] table, int position, sbyte digit, ref Niels entry, ref Field25519 negated)
    {
        int value = digit;
        int negative = (value >> 31) & 1;                 // 1 when the digit is negative
        int magnitude = value - ((2 * value) & -negative); // |digit|
        entry = Niels.Identity;
        ref ulong selected = ref Unsafe.As<Niels, ulong>(ref entry);
        var w0 = Vector128.LoadUnsafe(ref selected, 0);
        var w1 = Vector128.LoadUnsafe(ref selected, 2);
        var w2 = Vector128.LoadUnsafe(ref selected, 4);
        var w3 = Vector128.LoadUnsafe(ref selected, 6);
        var w4 = Vector128.LoadUnsafe(ref selected, 8);
        var w5 = Vector128.LoadUnsafe(ref selected, 10);
        var w6 = Vector128.LoadUnsafe(ref selected, 12);
        var w7 = Vector128.LoadUnsafe(ref selected, 14);
        ref ulong first = ref Unsafe.As<Niels, ulong>(ref MemoryMarshal.GetArrayDataReference(table));
        for (int k = 0; k < Multiples; k++)
        {
            // All ones when magnitude == k + 1, else zero, without a comparison the JIT could turn into a branch.
            ulong equal = (ulong)((uint)((magnitude ^ (k + 1)) - 1) >> 31);
            var mask = Vector128.Create(0UL - equal);
            ref ulong candidate = ref Unsafe.Add(ref first, ((position * Multiples) + k) * NielsWords);
            w0 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 0), w0);
            w1 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 2), w1);
            w2 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 4), w2);
            w3 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 6), w3);
            w4 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 8), w4);
            w5 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 10), w5);
            w6 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 12), w6);
            w7 = Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref candidate, 14), w7);
        }

        w0.StoreUnsafe(ref selected, 0);
        w1.StoreUnsafe(ref selected, 2);
        w2.StoreUnsafe(ref selected, 4);
        w3.StoreUnsafe(ref selected, 6);
        w4.StoreUnsafe(ref selected, 8);
        w5.StoreUnsafe(ref selected, 10);
        w6.StoreUnsafe(ref selected, 12);
        w7.StoreUnsafe(ref selected, 14);

        // −(x, y) = (−x, y): y + x and y − x trade places and 2d·x·y changes sign.
        Field25519.Sub(out negated, Field25519.Zero, entry.XY2d);
        Field25519.ConditionalSwap(ref entry.YPlusX, ref entry.YMinusX, (ulong)negative);
        Field25519.ConditionalSwap(ref entry.XY2d, ref negated, (ulong)negative);
    }

    // h += q (q affine), the a = −1 twisted Edwards unified addition in extended coordinates with Z2 = 1.
    private static void AddMixed(ref Extended h, in Niels q, ref Scratch t)
    {
        Field25519.Sub(out t.A, h.Y, h.X);
        Field25519.Mul(out t.A, t.A, q.YMinusX);          // A = (Y1 − X1)(y2 − x2)
        Field25519.Add(out t.B, h.Y, h.X);
        Field25519.Mul(out t.B, t.B, q.YPlusX);           // B = (Y1 + X1)(y2 + x2)
        Field25519.Mul(out t.C, h.T, q.XY2d);             // C = T1 · 2d·x2·y2
        Field25519.MulSmall(out t.D, h.Z, 2);             // D = 2·Z1
        CompleteAddition(ref h, ref t);
    }

    // h += q with both projective: AddMixed's formulas with C = T1·2d·T2 and D = 2·Z1·Z2 (public data only: the table).
    private static void Add(ref Extended h, in Extended q, in Field25519 d2, ref Scratch t)
    {
        Field25519.Sub(out t.A, h.Y, h.X);
        Field25519.Sub(out t.E, q.Y, q.X);
        Field25519.Mul(out t.A, t.A, t.E);               // A = (Y1 − X1)(Y2 − X2)
        Field25519.Add(out t.B, h.Y, h.X);
        Field25519.Add(out t.E, q.Y, q.X);
        Field25519.Mul(out t.B, t.B, t.E);               // B = (Y1 + X1)(Y2 + X2)
        Field25519.Mul(out t.C, h.T, q.T);
        Field25519.Mul(out t.C, t.C, d2);                // C = T1 · 2d · T2
        Field25519.Mul(out t.D, h.Z, q.Z);
        Field25519.MulSmall(out t.D, t.D, 2);            // D = 2·Z1·Z2
        CompleteAddition(ref h, ref t);
    }

    // The common end of both additions: from A, B, C, D to E = B − A, F = D − C, G = D + C, H = B + A and the sum.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CompleteAddition(ref Extended h, ref Scratch t)
    {
        Field25519.Sub(out t.E, t.B, t.A);
        Field25519.Sub(out t.F, t.D, t.C);
        Field25519.Add(out t.G, t.D, t.C);
        Field25519.Add(out t.H, t.B, t.A);
        FromEfgh(ref h, ref t);
    }

    // Both formulas end the same way: (X, Y, T, Z) = (E·F, G·H, E·H, F·G).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FromEfgh(ref Extended h, ref Scratch t)
    {
        Field25519.Mul(out h.X, t.E, t.F);
        Field25519.Mul(out h.Y, t.G, t.H);
        Field25519.Mul(out h.T, t.E, t.H);
        Field25519.Mul(out h.Z, t.F, t.G);
    }

    // h = 2h for a = −1: E = (X + Y)² − X² − Y², G = Y² − X², F = G − 2Z², H = −X² − Y².
    private static void Double(ref Extended h, ref Scratch t)
    {
        Field25519.Square(out t.A, h.X);
        Field25519.Square(out t.B, h.Y);
        Field25519.Square(out t.C, h.Z);
        Field25519.MulSmall(out t.C, t.C, 2);
        Field25519.Add(out t.D, h.X, h.Y);
        Field25519.Square(out t.D, t.D);
        Field25519.Add(out t.H, t.A, t.B);
        Field25519.MulSmall(out t.H, t.H, 1);             // reduce X² + Y² before it is subtracted
        Field25519.Sub(out t.E, t.D, t.H);
        Field25519.Sub(out t.G, t.B, t.A);
        Field25519.MulSmall(out t.G, t.G, 1);
        Field25519.Sub(out t.F, t.G, t.C);
        Field25519.Sub(out t.H, Field25519.Zero, t.H);
        FromEfgh(ref h, ref t);
    }

    // Public data only: multiples of the base point, computed once with the same formulas. The constants are
    // checked first: (x, y) must satisfy −x² + y² = 1 + d·x²·y².
    private static Niels[] BuildTable()
    {
        Field25519.FromBytes(BaseX, out var x);
        Field25519.MulSmall(out var four, Field25519.One, 4);
        Field25519.MulSmall(out var five, Field25519.One, 5);
        Field25519.Invert(out var inverseFive, five);
        Field25519.Mul(out var y, four, inverseFive);     // y = 4/5

        // d = −121665/121666; the table stores 2d·x·y.
        Field25519.MulSmall(out var n, Field25519.One, 121665);
        Field25519.MulSmall(out var m, Field25519.One, 121666);
        Field25519.Invert(out var inverseM, m);
        Field25519.Mul(out var dPositive, n, inverseM);
        Field25519.Sub(out var d, Field25519.Zero, dPositive);
        Field25519.MulSmall(out d, d, 1);
        Field25519.MulSmall(out var d2, d, 2);

        Field25519.Square(out var xx, x);
        Field25519.Square(out var yy, y);
        Field25519.Sub(out var left, yy, xx);
        Field25519.Mul(out var right, xx, yy);
        Field25519.Mul(out right, right, d);
        Field25519.Add(out right, right, Field25519.One);
        Span<byte> leftBytes = stackalloc byte[32];
        Span<byte> rightBytes = stackalloc byte[32];
        left.ToBytes(leftBytes);
        right.ToBytes(rightBytes);
        if (!leftBytes.SequenceEqual(rightBytes))
        {
            throw new InvalidOperationException("The Edwards base point constants are not on the curve.");
        }

        // The multiples in projective form first (no inversion per point), then all made affine with one inversion.
        var points = new Extended[Positions * Multiples];
        Scratch t = default;
        var positionBase = new Extended { X = x, Y = y, Z = Field25519.One };
        Field25519.Mul(out positionBase.T, x, y);
        for (int j = 0; j < Positions; j++)
        {
            var multiple = positionBase;
            points[j * Multiples] = multiple;
            for (int k = 1; k < Multiples; k++)
            {
                Add(ref multiple, positionBase, d2, ref t);
                points[(j * Multiples) + k] = multiple;
            }

            for (int i = 0; i < 8; i++)
            {
                Double(ref positionBase, ref t);       // 256^(j+1)·B
            }
        }

        var inverses = new Field25519[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            inverses[i] = points[i].Z;
        }

        Field25519.InvertBatch(inverses, inverses);
        var table = new Niels[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            table[i] = ToNiels(points[i], inverses[i], d2);
        }

        return table;
    }

    private static Niels ToNiels(in Extended point, in Field25519 inverseZ, in Field25519 d2)
    {
        Field25519.Mul(out var x, point.X, inverseZ);
        Field25519.Mul(out var y, point.Y, inverseZ);
        Niels result = default;
        Field25519.Add(out result.YPlusX, y, x);
        Field25519.MulSmall(out result.YPlusX, result.YPlusX, 1);
        Field25519.Sub(out result.YMinusX, y, x);
        Field25519.MulSmall(out result.YMinusX, result.YMinusX, 1);
        Field25519.Mul(out result.XY2d, x, y);
        Field25519.Mul(out result.XY2d, result.XY2d, d2);
        return result;
    }

    // A point as (X : Y : Z : T) with x = X/Z, y = Y/Z, x·y = T/Z.
    [StructLayout(LayoutKind.Sequential)]
    private struct Extended
    {
        public Field25519 X;
        public Field25519 Y;
        public Field25519 Z;
        public Field25519 T;

        public static Extended Identity => new() { X = Field25519.Zero, Y = Field25519.One, Z = Field25519.One, T = Field25519.Zero };
    }

    // An affine point prepared for mixed addition, padded to NielsWords words for the vector selection.
    [StructLayout(LayoutKind.Sequential, Size = NielsWords * sizeof(ulong))]
    private struct Niels
    {
        public Field25519 YPlusX;
        public Field25519 YMinusX;
        public Field25519 XY2d;

        public static Niels Identity => new() { YPlusX = Field25519.One, YMinusX = Field25519.One, XY2d = Field25519.Zero };
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Scratch
    {
        public Field25519 A;
        public Field25519 B;
        public Field25519 C;
        public Field25519 D;
        public Field25519 E;
        public Field25519 F;
        public Field25519 G;
        public Field25519 H;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Secrets
    {
        public ScalarBytes Scalar;
        public DigitBytes Digits;
        public Extended H;
        public Niels Entry;
        public Field25519 Negated;
        public Scratch Temporaries;
    }

    [System.Runtime.CompilerServices.InlineArray(32)]
    private struct ScalarBytes
    {
        private byte _element0;
    }

    [System.Runtime.CompilerServices.InlineArray(64)]
    private struct DigitBytes
    {
        private sbyte _element0;
    }
}
