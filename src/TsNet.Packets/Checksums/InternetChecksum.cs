using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TsNet.Packets;

/// <summary>
/// The Internet checksum (RFC 1071): the ones-complement of the ones-complement sum of 16-bit big-endian words.
/// </summary>
/// <remarks>
/// <para>
/// Partial sums (<see cref="Accumulate"/>) are kept in the machine's native byte order in a 64-bit accumulator:
/// RFC 1071 §2(B) shows the ones-complement sum is byte-order independent up to a final swap, and because
/// 2^16 ≡ 1 (mod 0xFFFF) any carry out of a 32- or 64-bit lane is worth exactly 1 — so we can add wide words and
/// fold at the end. Only <see cref="Finish"/> turns a partial sum into a network-order checksum value.
/// </para>
/// <para>
/// Partial sums of consecutive spans may be added (chained through the <c>sum</c> argument) as long as every span
/// but the last has an even length — an odd span would shift the following bytes to the other half of a word.
/// </para>
/// </remarks>
internal static class InternetChecksum
{
    private const int PseudoHeaderIpv4TailLength = 4;
    private const int PseudoHeaderIpv6TailLength = 8;

    /// <summary>Adds <paramref name="data"/> to the running partial sum <paramref name="sum"/>.</summary>
    public static ulong Accumulate(ReadOnlySpan<byte> data, ulong sum = 0)
    {
        // Below two vectors the setup and lane sums cost more than they save (pseudo-headers, bare headers).
        if (Vector256.IsHardwareAccelerated && data.Length >= 2 * Vector256<byte>.Count)
        {
            return AccumulateVector256(data, sum);
        }

        if (Vector128.IsHardwareAccelerated && data.Length >= 2 * Vector128<byte>.Count)
        {
            return AccumulateVector128(data, sum);
        }

        return AccumulateScalar(data, sum);
    }

    /// <summary><see cref="Accumulate"/> with 256-bit vectors for the bulk (internal so tests cover every path).</summary>
    internal static ulong AccumulateVector256(ReadOnlySpan<byte> data, ulong sum)
    {
        int bulk = data.Length - (data.Length % Vector256<byte>.Count);
        ref byte start = ref MemoryMarshal.GetReference(data);

        // Each 32-bit lane accumulates words; a lane that wraps has lost 2^32 ≡ 1, counted in `carries` (the
        // compare yields all-ones, i.e. -1, so subtracting it adds one). Two accumulators hide add latency.
        Vector256<uint> acc0 = Vector256<uint>.Zero;
        Vector256<uint> acc1 = Vector256<uint>.Zero;
        Vector256<uint> carries0 = Vector256<uint>.Zero;
        Vector256<uint> carries1 = Vector256<uint>.Zero;
        nuint step = (nuint)Vector256<byte>.Count;
        nuint offset = 0;
        for (; offset + (2 * step) <= (nuint)bulk; offset += 2 * step)
        {
            Vector256<uint> v0 = Vector256.LoadUnsafe(ref start, offset).AsUInt32();
            Vector256<uint> v1 = Vector256.LoadUnsafe(ref start, offset + step).AsUInt32();
            acc0 += v0;
            acc1 += v1;
            carries0 -= Vector256.LessThan(acc0, v0);
            carries1 -= Vector256.LessThan(acc1, v1);
        }

        if (offset < (nuint)bulk)
        {
            Vector256<uint> v0 = Vector256.LoadUnsafe(ref start, offset).AsUInt32();
            acc0 += v0;
            carries0 -= Vector256.LessThan(acc0, v0);
        }

        sum = AddWithCarry(sum, SumLanes(acc0) + SumLanes(acc1) + SumLanes(carries0) + SumLanes(carries1));
        return AccumulateScalar(data[bulk..], sum);
    }

    /// <summary><see cref="Accumulate"/> with 128-bit vectors for the bulk (internal so tests cover every path).</summary>
    internal static ulong AccumulateVector128(ReadOnlySpan<byte> data, ulong sum)
    {
        int bulk = data.Length - (data.Length % Vector128<byte>.Count);
        ref byte start = ref MemoryMarshal.GetReference(data);
        Vector128<uint> acc = Vector128<uint>.Zero;
        Vector128<uint> carries = Vector128<uint>.Zero;
        nuint step = (nuint)Vector128<byte>.Count;
        for (nuint offset = 0; offset < (nuint)bulk; offset += step)
        {
            Vector128<uint> v = Vector128.LoadUnsafe(ref start, offset).AsUInt32();
            acc += v;
            carries -= Vector128.LessThan(acc, v);
        }

        sum = AddWithCarry(sum, SumLanes(acc) + SumLanes(carries));
        return AccumulateScalar(data[bulk..], sum);
    }

    /// <summary><see cref="Accumulate"/> without vectors: 8 bytes at a time with end-around carry.</summary>
    internal static ulong AccumulateScalar(ReadOnlySpan<byte> data, ulong sum)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint offset = 0;
        for (; length - offset >= sizeof(ulong); offset += sizeof(ulong))
        {
            sum = AddWithCarry(sum, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset)));
        }

        if (length - offset >= sizeof(uint))
        {
            sum = AddWithCarry(sum, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, offset)));
            offset += sizeof(uint);
        }

        if (length - offset >= sizeof(ushort))
        {
            sum = AddWithCarry(sum, Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, offset)));
            offset += sizeof(ushort);
        }

        if (length - offset == 1)
        {
            // An odd final byte is the high byte of a word padded with zero. In native little-endian order the
            // byte at an even offset is the low byte of its word, so it is added unshifted there.
            ulong last = Unsafe.Add(ref start, offset);
            sum = AddWithCarry(sum, BitConverter.IsLittleEndian ? last : last << 8);
        }

        return sum;
    }

    /// <summary>Folds a partial sum to 16 bits and returns the checksum as a value to be written big-endian.</summary>
    public static ushort Finish(ulong sum)
    {
        ushort folded = Fold(sum);
        if (BitConverter.IsLittleEndian)
        {
            folded = BinaryPrimitives.ReverseEndianness(folded);
        }

        return (ushort)~folded;
    }

    /// <summary>Computes the checksum of <paramref name="data"/> with an optional initial partial sum (a pseudo-header).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data, ulong sum = 0) => Finish(Accumulate(data, sum));

    /// <summary>
    /// True when <paramref name="data"/>, which contains its own checksum field, sums (with <paramref name="sum"/>) to
    /// all ones — the receiver's check of RFC 1071.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> data, ulong sum = 0) => Fold(Accumulate(data, sum)) == 0xFFFF;

    /// <summary>Partial sum of the IPv4 pseudo-header (RFC 768/793): source, destination, zero, protocol, length.</summary>
    public static ulong PseudoHeaderIpv4(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length)
    {
        Span<byte> tail = stackalloc byte[PseudoHeaderIpv4TailLength];
        tail[0] = 0;
        tail[1] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(tail[2..], (ushort)length);
        return Accumulate(tail, Accumulate(destination, Accumulate(source)));
    }

    /// <summary>Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, 32-bit length, zeros, next header.</summary>
    public static ulong PseudoHeaderIpv6(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, int length)
    {
        Span<byte> tail = stackalloc byte[PseudoHeaderIpv6TailLength];
        BinaryPrimitives.WriteUInt32BigEndian(tail, (uint)length);
        tail[4] = 0;
        tail[5] = 0;
        tail[6] = 0;
        tail[7] = nextHeader;
        return Accumulate(tail, Accumulate(destination, Accumulate(source)));
    }

    /// <summary>Folds a 64-bit partial sum to 16 bits (native byte order).</summary>
    internal static ushort Fold(ulong sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddWithCarry(ulong sum, ulong value)
    {
        ulong result = sum + value;

        // 2^64 ≡ 1 (mod 0xFFFF): a carry out of the accumulator is added back at the bottom.
        return result + (result < value ? 1UL : 0UL);
    }

    private static ulong SumLanes(Vector256<uint> vector)
    {
        // Widen before adding so eight 32-bit lanes cannot overflow (the sum fits easily in 64 bits).
        (Vector256<ulong> lower, Vector256<ulong> upper) = Vector256.Widen(vector);
        return Vector256.Sum(lower + upper);
    }

    private static ulong SumLanes(Vector128<uint> vector)
    {
        (Vector128<ulong> lower, Vector128<ulong> upper) = Vector128.Widen(vector);
        return Vector128.Sum(lower + upper);
    }
}
