using System.Numerics;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>GF(2^255 - 19) arithmetic against <see cref="BigInteger"/>, including the limb-bound extremes.</summary>
public class Field25519Tests
{
    private static readonly BigInteger P = (BigInteger.One << 255) - 19;

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p - 1 stays
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "0000000000000000000000000000000000000000000000000000000000000000")] // p -> 0
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "0100000000000000000000000000000000000000000000000000000000000000")] // p + 1 -> 1
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "1200000000000000000000000000000000000000000000000000000000000000")] // 2^255 - 1 -> 18
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "1200000000000000000000000000000000000000000000000000000000000000")] // bit 255 ignored
    [InlineData("0900000000000000000000000000000000000000000000000000000000000080", "0900000000000000000000000000000000000000000000000000000000000000")]
    public void RoundTrip_IsCanonical(string input, string expected)
    {
        Field25519.FromBytes(Hex.Decode(input), out Field25519 x);
        byte[] output = new byte[32];
        x.ToBytes(output);
        Hex.Encode(output).Should().Be(expected);
    }

    [Fact]
    public void Operations_MatchBigInteger()
    {
        var random = new Random(25519);
        for (int i = 0; i < 500; i++)
        {
            BigInteger a = RandomValue(random), b = RandomValue(random);
            Field25519 fa = ToField(a), fb = ToField(b);

            Field25519.Mul(out Field25519 product, fa, fb);
            Value(product).Should().Be(a * b % P);
            Field25519.Square(out Field25519 square, fa);
            Value(square).Should().Be(a * a % P);
            Field25519.Add(out Field25519 sum, fa, fb);
            Value(sum).Should().Be((a + b) % P);
            Field25519.Sub(out Field25519 difference, fa, fb);
            Value(difference).Should().Be(Mod(a - b));
            Field25519.MulSmall(out Field25519 scaled, fa, 121665);
            Value(scaled).Should().Be(a * 121665 % P);

            // Loose operands (sums and differences) into the multipliers, as the ladder does.
            Field25519.Mul(out product, sum, difference);
            Value(product).Should().Be(Mod((a + b) * (a - b)));
            Field25519.Square(out square, difference);
            Value(square).Should().Be(Mod((a - b) * (a - b)));
            Field25519.MulSmall(out scaled, difference, 121665);
            Value(scaled).Should().Be(Mod((a - b) * 121665));
        }
    }

    [Fact]
    public void LimbExtremes_StayExact()
    {
        // All limbs 2^51 - 1 (the encoding 2^255 - 1), zero, and 1: their sums and differences push limbs to the
        // largest values the ladder produces; every product must still be exact.
        BigInteger max = (BigInteger.One << 255) - 1;
        Field25519 fMax = ToField(max), zero = Field25519.Zero, one = Field25519.One;
        Field25519.Mul(out Field25519 maxSquared, fMax, fMax); // reduced but with non-canonical limbs
        BigInteger maxSquaredValue = max * max % P;

        Field25519[] loose = new Field25519[6];
        BigInteger[] values = new BigInteger[6];
        Field25519.Add(out loose[0], fMax, fMax);
        values[0] = 2 * max;
        Field25519.Sub(out loose[1], zero, fMax);
        values[1] = -max;
        Field25519.Sub(out loose[2], fMax, zero);
        values[2] = max;
        Field25519.Add(out loose[3], maxSquared, maxSquared);
        values[3] = 2 * maxSquaredValue;
        Field25519.Sub(out loose[4], zero, maxSquared);
        values[4] = -maxSquaredValue;
        Field25519.Sub(out loose[5], one, zero);
        values[5] = 1;

        for (int i = 0; i < loose.Length; i++)
        {
            Value(loose[i]).Should().Be(Mod(values[i]));
            Field25519.Square(out Field25519 square, loose[i]);
            Value(square).Should().Be(Mod(values[i] * values[i]));
            Field25519.MulSmall(out Field25519 scaled, loose[i], 121665);
            Value(scaled).Should().Be(Mod(values[i] * 121665));
            for (int j = 0; j < loose.Length; j++)
            {
                Field25519.Mul(out Field25519 product, loose[i], loose[j]);
                Value(product).Should().Be(Mod(values[i] * values[j]), $"operands {i}, {j}");
            }
        }
    }

    [Fact]
    public void Invert_IsInverse_AndMapsZeroToZero()
    {
        var random = new Random(19);
        for (int i = 0; i < 50; i++)
        {
            BigInteger a = RandomValue(random);
            Field25519.Invert(out Field25519 inverse, ToField(a));
            Value(inverse).Should().Be(a.IsZero ? BigInteger.Zero : BigInteger.ModPow(a, P - 2, P));
        }

        Field25519.Invert(out Field25519 zeroInverse, Field25519.Zero);
        Value(zeroInverse).Should().Be(BigInteger.Zero);
        Field25519.Invert(out Field25519 pInverse, ToField(P)); // p is 0 in the field
        Value(pInverse).Should().Be(BigInteger.Zero);
    }

    [Fact]
    public void InvertBatch_GivesEachInverse_AlsoInPlace()
    {
        var random = new Random(255);
        var values = new List<BigInteger> { BigInteger.One, P - 1, 2, (BigInteger.One << 255) - 20 };
        while (values.Count < 40)
        {
            BigInteger a = RandomValue(random);
            if (!(a % P).IsZero)
            {
                values.Add(a);
            }
        }

        Field25519[] elements = values.Select(ToField).ToArray();
        var inverses = new Field25519[elements.Length];
        Field25519.InvertBatch(elements, inverses);
        Field25519.InvertBatch(elements, elements);
        for (int i = 0; i < values.Count; i++)
        {
            BigInteger expected = BigInteger.ModPow(values[i], P - 2, P);
            Value(inverses[i]).Should().Be(expected, $"value {i}");
            Value(elements[i]).Should().Be(expected, $"value {i} in place");
            Mod(values[i] * Value(inverses[i])).Should().Be(BigInteger.One);
        }

        Field25519.InvertBatch([], []);
        var act = () => Field25519.InvertBatch(new Field25519[2], new Field25519[1]);
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ConditionalSwap_SwapsOnlyOnOne()
    {
        Field25519 a = ToField(5), b = ToField(P - 7);
        Field25519.ConditionalSwap(ref a, ref b, 0);
        Value(a).Should().Be(5);
        Value(b).Should().Be(P - 7);
        Field25519.ConditionalSwap(ref a, ref b, 1);
        Value(a).Should().Be(P - 7);
        Value(b).Should().Be(5);
    }

    [Fact]
    public void Operations_AllowResultToAliasOperands()
    {
        BigInteger a = 123456789, b = P - 987654321;
        Field25519 x = ToField(a), y = ToField(b);
        Field25519.Mul(out x, x, y);
        Value(x).Should().Be(a * b % P);
        Field25519.Square(out x, x);
        Value(x).Should().Be(BigInteger.ModPow(a * b, 2, P));
    }

    // Values in [0, 2^255), so non-canonical ones in [p, 2^255) occur too.
    private static BigInteger RandomValue(Random random)
    {
        byte[] bytes = new byte[32];
        random.NextBytes(bytes);
        bytes[31] &= 0x7f;
        if (random.Next(8) == 0)
        {
            bytes.AsSpan(1).Fill(0xff); // near 2^255: at or above p when the low byte is 0xed or more
            bytes[31] = 0x7f;
        }

        return new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
    }

    private static Field25519 ToField(BigInteger value)
    {
        byte[] bytes = new byte[32];
        value.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false).Should().BeTrue();
        Field25519.FromBytes(bytes, out Field25519 result);
        return result;
    }

    private static BigInteger Value(in Field25519 x)
    {
        byte[] bytes = new byte[32];
        x.ToBytes(bytes);
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
        value.Should().BeLessThan(P, "ToBytes must give the canonical representative");
        return value;
    }

    private static BigInteger Mod(BigInteger value) => ((value % P) + P) % P;
}
