using System.Buffers.Binary;
using System.Net;

namespace TsNet.Packets;

/// <summary>
/// A checked read-only view of an IPv4 packet (RFC 791). <see cref="TryCreate"/> guarantees a version of 4, a header
/// length of at least 20 bytes, and <c>header length ≤ total length ≤ buffer length</c>; the view covers exactly
/// Total Length bytes, so link padding (or WireGuard's zero padding) is cut off. The checksum is not checked on
/// creation — callers decide (<see cref="IsChecksumValid"/>) so they can count the reason for a drop.
/// </summary>
/// <remarks>
/// Fragments are recognised (<see cref="IsFragment"/>) but never reassembled: TsNet sets the tunnel MTU so that its
/// own traffic is never fragmented, and the netstack drops and counts fragments it receives.
/// </remarks>
internal readonly ref struct Ipv4Packet
{
    /// <summary>Length of a header without options.</summary>
    public const int MinHeaderLength = 20;

    /// <summary>Largest header: IHL is 4 bits counting 32-bit words.</summary>
    public const int MaxHeaderLength = 60;

    /// <summary>Length of an IPv4 address.</summary>
    public const int AddressLength = 4;

    /// <summary>Largest value of the 16-bit Total Length field.</summary>
    public const int MaxTotalLength = ushort.MaxValue;

    internal const int VersionAndIhlOffset = 0;
    internal const int DscpAndEcnOffset = 1;
    internal const int TotalLengthOffset = 2;
    internal const int IdentificationOffset = 4;
    internal const int FlagsAndFragmentOffsetOffset = 6;
    internal const int TimeToLiveOffset = 8;
    internal const int ProtocolOffset = 9;
    internal const int ChecksumOffset = 10;
    internal const int SourceOffset = 12;
    internal const int DestinationOffset = 16;

    internal const int Version = 4;
    internal const ushort DontFragmentFlag = 0x4000;
    internal const ushort MoreFragmentsFlag = 0x2000;
    internal const ushort FragmentOffsetMask = 0x1FFF;

    /// <summary>The fragment offset field counts 8-byte units.</summary>
    private const int FragmentOffsetUnit = 8;

    /// <summary>IHL counts 32-bit words.</summary>
    private const int IhlUnit = 4;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv4Packet(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>Validates the header structure of <paramref name="buffer"/> and returns a view of the packet in it.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out Ipv4Packet packet)
    {
        packet = default;
        if (buffer.Length < MinHeaderLength || buffer[VersionAndIhlOffset] >> 4 != Version)
        {
            return false;
        }

        int headerLength = (buffer[VersionAndIhlOffset] & 0x0F) * IhlUnit;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(buffer[TotalLengthOffset..]);
        if (headerLength < MinHeaderLength || totalLength < headerLength || totalLength > buffer.Length)
        {
            return false;
        }

        packet = new Ipv4Packet(buffer[..totalLength]);
        return true;
    }

    /// <summary>The whole packet (Total Length bytes).</summary>
    public ReadOnlySpan<byte> Bytes => _packet;

    /// <summary>Header length in bytes (IHL × 4), including options.</summary>
    public int HeaderLength => (_packet[VersionAndIhlOffset] & 0x0F) * IhlUnit;

    /// <summary>The header including options.</summary>
    public ReadOnlySpan<byte> Header => _packet[..HeaderLength];

    /// <summary>Differentiated services code point (upper 6 bits of the old TOS byte).</summary>
    public byte Dscp => (byte)(_packet[DscpAndEcnOffset] >> 2);

    /// <summary>Explicit congestion notification bits (RFC 3168).</summary>
    public byte Ecn => (byte)(_packet[DscpAndEcnOffset] & 0x03);

    /// <summary>Total Length field: header plus payload.</summary>
    public int TotalLength => _packet.Length;

    /// <summary>Identification field.</summary>
    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_packet[IdentificationOffset..]);

    /// <summary>The DF flag.</summary>
    public bool DontFragment => (FlagsAndFragmentOffset & DontFragmentFlag) != 0;

    /// <summary>The MF flag.</summary>
    public bool MoreFragments => (FlagsAndFragmentOffset & MoreFragmentsFlag) != 0;

    /// <summary>Fragment offset in bytes.</summary>
    public int FragmentOffset => (FlagsAndFragmentOffset & FragmentOffsetMask) * FragmentOffsetUnit;

    /// <summary>True for any fragment of a fragmented datagram (MF set or a non-zero offset).</summary>
    public bool IsFragment => (FlagsAndFragmentOffset & (MoreFragmentsFlag | FragmentOffsetMask)) != 0;

    /// <summary>Time to live.</summary>
    public byte TimeToLive => _packet[TimeToLiveOffset];

    /// <summary>Protocol of the payload (<see cref="IpProtocol"/>).</summary>
    public byte Protocol => _packet[ProtocolOffset];

    /// <summary>Header checksum field.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_packet[ChecksumOffset..]);

    /// <summary>Source address bytes.</summary>
    public ReadOnlySpan<byte> Source => _packet.Slice(SourceOffset, AddressLength);

    /// <summary>Destination address bytes.</summary>
    public ReadOnlySpan<byte> Destination => _packet.Slice(DestinationOffset, AddressLength);

    /// <summary>Source address as a big-endian number (allocation-free).</summary>
    public uint SourceValue => BinaryPrimitives.ReadUInt32BigEndian(Source);

    /// <summary>Destination address as a big-endian number (allocation-free).</summary>
    public uint DestinationValue => BinaryPrimitives.ReadUInt32BigEndian(Destination);

    /// <summary>Header options (empty unless IHL &gt; 5). They are skipped, never interpreted.</summary>
    public ReadOnlySpan<byte> Options => _packet[MinHeaderLength..HeaderLength];

    /// <summary>The payload after the header (and its options), up to Total Length.</summary>
    public ReadOnlySpan<byte> Payload => _packet[HeaderLength..];

    private ushort FlagsAndFragmentOffset => BinaryPrimitives.ReadUInt16BigEndian(_packet[FlagsAndFragmentOffsetOffset..]);

    /// <summary>Allocates an <see cref="IPAddress"/> for the source (not for the hot path).</summary>
    public IPAddress GetSourceAddress() => new(Source);

    /// <summary>Allocates an <see cref="IPAddress"/> for the destination (not for the hot path).</summary>
    public IPAddress GetDestinationAddress() => new(Destination);

    /// <summary>True when the header checksum verifies.</summary>
    public bool IsChecksumValid() => InternetChecksum.IsValid(Header);

    /// <summary>Sets the TTL of a packet already validated or built by us (no checks; the checksum must be refilled).</summary>
    public static void SetTimeToLive(Span<byte> packet, byte timeToLive) => packet[TimeToLiveOffset] = timeToLive;

    /// <summary>Recomputes and stores the header checksum of a packet already validated or built by us.</summary>
    public static void FillChecksum(Span<byte> packet)
    {
        int headerLength = (packet[VersionAndIhlOffset] & 0x0F) * IhlUnit;
        Span<byte> header = packet[..headerLength];
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], InternetChecksum.Compute(header));
    }
}
