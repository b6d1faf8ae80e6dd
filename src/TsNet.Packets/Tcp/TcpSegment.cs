using System.Buffers.Binary;

namespace TsNet.Packets;

/// <summary>
/// A checked read-only view of a TCP segment (RFC 9293 §3.1): the upper-layer payload of an IP packet.
/// <see cref="TryCreate"/> guarantees the 20-byte header and a data offset of 5–15 words that fits the segment.
/// Options are exposed raw (<see cref="Options"/>; walk them with <see cref="TcpOptionReader"/>).
/// </summary>
internal readonly ref struct TcpSegment
{
    /// <summary>Length of a header without options.</summary>
    public const int MinHeaderLength = 20;

    /// <summary>Largest header: the data offset is 4 bits counting 32-bit words.</summary>
    public const int MaxHeaderLength = 60;

    internal const int SourcePortOffset = 0;
    internal const int DestinationPortOffset = 2;
    internal const int SequenceNumberOffset = 4;
    internal const int AcknowledgmentNumberOffset = 8;
    internal const int DataOffsetOffset = 12;
    internal const int FlagsOffset = 13;
    internal const int WindowOffset = 14;
    internal const int ChecksumOffset = 16;
    internal const int UrgentPointerOffset = 18;

    /// <summary>The data offset counts 32-bit words.</summary>
    private const int DataOffsetUnit = 4;

    private readonly ReadOnlySpan<byte> _segment;

    private TcpSegment(ReadOnlySpan<byte> segment) => _segment = segment;

    /// <summary>Validates the header of <paramref name="segment"/> (the whole IP payload).</summary>
    public static bool TryCreate(ReadOnlySpan<byte> segment, out TcpSegment view)
    {
        view = default;
        if (segment.Length < MinHeaderLength)
        {
            return false;
        }

        int headerLength = (segment[DataOffsetOffset] >> 4) * DataOffsetUnit;
        if (headerLength < MinHeaderLength || headerLength > segment.Length)
        {
            return false;
        }

        view = new TcpSegment(segment);
        return true;
    }

    /// <summary>The whole segment.</summary>
    public ReadOnlySpan<byte> Bytes => _segment;

    /// <summary>Source port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_segment[SourcePortOffset..]);

    /// <summary>Destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_segment[DestinationPortOffset..]);

    /// <summary>Sequence number.</summary>
    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_segment[SequenceNumberOffset..]);

    /// <summary>Acknowledgment number (meaningful with <see cref="TcpFlags.Ack"/>).</summary>
    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_segment[AcknowledgmentNumberOffset..]);

    /// <summary>Header length in bytes (data offset × 4).</summary>
    public int HeaderLength => (_segment[DataOffsetOffset] >> 4) * DataOffsetUnit;

    /// <summary>Control bits.</summary>
    public TcpFlags Flags => (TcpFlags)_segment[FlagsOffset];

    /// <summary>Window field (unscaled).</summary>
    public ushort Window => BinaryPrimitives.ReadUInt16BigEndian(_segment[WindowOffset..]);

    /// <summary>Checksum field.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_segment[ChecksumOffset..]);

    /// <summary>Urgent pointer.</summary>
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_segment[UrgentPointerOffset..]);

    /// <summary>The option space between the fixed header and the data (possibly empty).</summary>
    public ReadOnlySpan<byte> Options => _segment[MinHeaderLength..HeaderLength];

    /// <summary>The data.</summary>
    public ReadOnlySpan<byte> Payload => _segment[HeaderLength..];

    /// <summary>Checks the checksum with the IPv4 pseudo-header.</summary>
    public bool IsChecksumValidIpv4(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination) =>
        InternetChecksum.IsValid(_segment, InternetChecksum.PseudoHeaderIpv4(source, destination, IpProtocol.Tcp, _segment.Length));

    /// <summary>Checks the checksum with the IPv6 pseudo-header.</summary>
    public bool IsChecksumValidIpv6(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination) =>
        InternetChecksum.IsValid(_segment, InternetChecksum.PseudoHeaderIpv6(source, destination, IpProtocol.Tcp, _segment.Length));

    /// <summary>Fills the checksum of a segment we built, given the pseudo-header partial sum.</summary>
    public static void FillChecksum(Span<byte> segment, ulong pseudoHeaderSum)
    {
        BinaryPrimitives.WriteUInt16BigEndian(segment[ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(segment[ChecksumOffset..], InternetChecksum.Compute(segment, pseudoHeaderSum));
    }
}
