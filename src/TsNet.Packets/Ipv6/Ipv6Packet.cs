using System.Buffers.Binary;
using System.Net;

namespace TsNet.Packets;

/// <summary>
/// A checked read-only view of an IPv6 packet (RFC 8200). <see cref="TryCreate"/> guarantees version 6 and
/// <c>40 + Payload Length ≤ buffer length</c>; the view covers exactly the fixed header plus Payload Length bytes
/// (anything behind it, such as WireGuard padding, is cut off). Jumbograms (Payload Length 0 with a Jumbo Payload
/// option) are not supported: such a packet is seen as having an empty payload.
/// </summary>
internal readonly ref struct Ipv6Packet
{
    /// <summary>Length of the fixed header.</summary>
    public const int HeaderLength = 40;

    /// <summary>Length of an IPv6 address.</summary>
    public const int AddressLength = 16;

    /// <summary>
    /// Most extension headers walked before the packet is treated as malformed. Real traffic carries one or two;
    /// the bound keeps the per-packet work constant for hostile chains.
    /// </summary>
    public const int MaxExtensionHeaders = 8;

    internal const int VersionTrafficClassFlowLabelOffset = 0;
    internal const int PayloadLengthOffset = 4;
    internal const int NextHeaderOffset = 6;
    internal const int HopLimitOffset = 7;
    internal const int SourceOffset = 8;
    internal const int DestinationOffset = 24;

    internal const int Version = 6;
    private const uint TrafficClassMask = 0x0FF0_0000;
    private const int TrafficClassShift = 20;
    private const uint FlowLabelMask = 0x000F_FFFF;

    /// <summary>Hop-by-Hop, Routing and Destination Options headers share this layout: next header, length in
    /// 8-byte units not counting the first 8 bytes, data.</summary>
    private const int ExtensionHeaderUnit = 8;
    private const int ExtensionNextHeaderOffset = 0;
    private const int ExtensionLengthOffset = 1;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv6Packet(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>Validates the fixed header of <paramref name="buffer"/> and returns a view of the packet in it.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out Ipv6Packet packet)
    {
        packet = default;
        if (buffer.Length < HeaderLength || buffer[VersionTrafficClassFlowLabelOffset] >> 4 != Version)
        {
            return false;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(buffer[PayloadLengthOffset..]);
        if (payloadLength > buffer.Length - HeaderLength)
        {
            return false;
        }

        packet = new Ipv6Packet(buffer[..(HeaderLength + payloadLength)]);
        return true;
    }

    /// <summary>The whole packet (fixed header plus Payload Length bytes).</summary>
    public ReadOnlySpan<byte> Bytes => _packet;

    /// <summary>Traffic class.</summary>
    public byte TrafficClass => (byte)((BinaryPrimitives.ReadUInt32BigEndian(_packet) & TrafficClassMask) >> TrafficClassShift);

    /// <summary>Flow label (20 bits).</summary>
    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_packet) & FlowLabelMask;

    /// <summary>Payload Length field: everything after the fixed header, extension headers included.</summary>
    public int PayloadLength => _packet.Length - HeaderLength;

    /// <summary>Next Header field of the fixed header.</summary>
    public byte NextHeader => _packet[NextHeaderOffset];

    /// <summary>Hop limit.</summary>
    public byte HopLimit => _packet[HopLimitOffset];

    /// <summary>Source address bytes.</summary>
    public ReadOnlySpan<byte> Source => _packet.Slice(SourceOffset, AddressLength);

    /// <summary>Destination address bytes.</summary>
    public ReadOnlySpan<byte> Destination => _packet.Slice(DestinationOffset, AddressLength);

    /// <summary>Source address as a big-endian number (allocation-free).</summary>
    public UInt128 SourceValue => BinaryPrimitives.ReadUInt128BigEndian(Source);

    /// <summary>Destination address as a big-endian number (allocation-free).</summary>
    public UInt128 DestinationValue => BinaryPrimitives.ReadUInt128BigEndian(Destination);

    /// <summary>Everything after the fixed header (extension headers and the upper-layer message).</summary>
    public ReadOnlySpan<byte> Payload => _packet[HeaderLength..];

    /// <summary>Allocates an <see cref="IPAddress"/> for the source (not for the hot path).</summary>
    public IPAddress GetSourceAddress() => new(Source);

    /// <summary>Allocates an <see cref="IPAddress"/> for the destination (not for the hot path).</summary>
    public IPAddress GetDestinationAddress() => new(Destination);

    /// <summary>
    /// Walks the Hop-by-Hop (0), Routing (43) and Destination Options (60) extension headers, each bounds-checked,
    /// to the first header that is none of them. That header's number is returned in <paramref name="protocol"/>
    /// and its offset from the start of the packet in <paramref name="offset"/>; a Fragment header (44) is returned
    /// as such (the caller drops fragments), as are No Next Header (59) and protocols TsNet does not speak (ESP, AH).
    /// </summary>
    /// <returns>False for a truncated chain, Hop-by-Hop anywhere but first, or more than
    /// <see cref="MaxExtensionHeaders"/> headers.</returns>
    public bool TryFindUpperLayer(out byte protocol, out int offset)
    {
        byte next = NextHeader;
        int position = HeaderLength;
        for (int count = 0; count <= MaxExtensionHeaders; count++)
        {
            switch (next)
            {
                case IpProtocol.HopByHopOptions when count != 0:
                    // RFC 8200 §4.1: Hop-by-Hop may only follow the fixed header.
                    break;
                case IpProtocol.HopByHopOptions:
                case IpProtocol.Ipv6Routing:
                case IpProtocol.Ipv6DestinationOptions:
                    if (count == MaxExtensionHeaders || _packet.Length - position < ExtensionHeaderUnit)
                    {
                        break;
                    }

                    int length = (_packet[position + ExtensionLengthOffset] + 1) * ExtensionHeaderUnit;
                    if (length > _packet.Length - position)
                    {
                        break;
                    }

                    next = _packet[position + ExtensionNextHeaderOffset];
                    position += length;
                    continue;
                default:
                    protocol = next;
                    offset = position;
                    return true;
            }

            break;
        }

        protocol = 0;
        offset = 0;
        return false;
    }

    /// <summary>Sets the hop limit of a packet already validated or built by us (no checks).</summary>
    public static void SetHopLimit(Span<byte> packet, byte hopLimit) => packet[HopLimitOffset] = hopLimit;
}
