using System.Buffers.Binary;

namespace TsNet.WireGuard.Protocol;

/// <summary>TAI64N timestamps as WireGuard sends them in initiations (12 bytes, big-endian; wireguard.md §4).</summary>
internal static class Tai64N
{
    public const int Size = 12;

    /// <summary>TAI64 label 2^62 plus the 10 s TAI−UTC offset of 1972 that the format bakes in.</summary>
    private const ulong Base = 0x400000000000000AUL;

    /// <summary>
    /// wireguard-go clears the low 24 bits of the nanoseconds (≈16.8 ms granularity) so the timestamp does not
    /// expose a fine-grained clock to observers.
    /// </summary>
    public const uint NanosecondMask = ~0xFFFFFFu;

    /// <summary>Writes the timestamp of <paramref name="time"/> (nanoseconds masked).</summary>
    public static void Write(DateTimeOffset time, Span<byte> destination)
    {
        var unixTicks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = (ulong)(unixTicks / TimeSpan.TicksPerSecond);
        var nanos = (uint)(unixTicks % TimeSpan.TicksPerSecond * 100);
        Write(seconds, nanos & NanosecondMask, destination);
    }

    /// <summary>Writes a timestamp from Unix seconds and (already masked or not) nanoseconds.</summary>
    public static void Write(ulong unixSeconds, uint nanoseconds, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Base + unixSeconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], nanoseconds);
    }

    /// <summary>True when <paramref name="candidate"/> is strictly later than <paramref name="reference"/> (byte-wise compare).</summary>
    public static bool IsAfter(ReadOnlySpan<byte> candidate, ReadOnlySpan<byte> reference) =>
        candidate[..Size].SequenceCompareTo(reference[..Size]) > 0;
}
