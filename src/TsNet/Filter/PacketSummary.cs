using System.Buffers.Binary;

namespace TsNet.Filter;

/// <summary>
/// What the filter needs of one IP packet, read in place (no allocation): family, protocol, addresses, ports, TCP
/// flags, ICMP type and echo id. Addresses are big-endian numbers (IPv4 in the low 32 bits) so prefix and range tests
/// are integer comparisons.
/// </summary>
internal struct PacketSummary
{
    public const byte ProtocolIcmpV4 = 1;
    public const byte ProtocolTcp = 6;
    public const byte ProtocolUdp = 17;
    public const byte ProtocolIcmpV6 = 58;
    public const byte ProtocolSctp = 132;
    private const byte Ipv6FragmentHeader = 44;
    private const byte TcpSyn = 0x02;
    private const byte TcpAck = 0x10;

    /// <summary>True for IPv6, false for IPv4.</summary>
    public bool IsV6;

    /// <summary>The IANA protocol of the transport header (for IPv6 the first header after the fixed one, after a fragment header).</summary>
    public byte Protocol;

    /// <summary>A fragment other than the first: it carries no transport header.</summary>
    public bool IsLaterFragment;

    public UInt128 Source;
    public UInt128 Destination;

    /// <summary>Source port (TCP, UDP, SCTP); 0 otherwise.</summary>
    public ushort SourcePort;

    /// <summary>Destination port (TCP, UDP, SCTP); 0 otherwise.</summary>
    public ushort DestinationPort;

    /// <summary>TCP flags byte; 0 for other protocols.</summary>
    public byte TcpFlags;

    /// <summary>ICMP type; 0 for other protocols (0 is also ICMPv4 echo reply: check <see cref="IsIcmp"/>).</summary>
    public byte IcmpType;

    /// <summary>ICMP echo identifier (request and reply only).</summary>
    public ushort IcmpEchoId;

    /// <summary>A TCP segment that opens a connection: SYN without ACK.</summary>
    public readonly bool IsTcpSyn => Protocol == ProtocolTcp && (TcpFlags & (TcpSyn | TcpAck)) == TcpSyn;

    /// <summary>ICMPv4 or ICMPv6 (by the protocol that belongs to the packet's family).</summary>
    public readonly bool IsIcmp => Protocol == (IsV6 ? ProtocolIcmpV6 : ProtocolIcmpV4);

    /// <summary>An ICMP echo request.</summary>
    public readonly bool IsEchoRequest => IsIcmp && IcmpType == (IsV6 ? 128 : 8);

    /// <summary>An ICMP echo reply.</summary>
    public readonly bool IsEchoReply => IsIcmp && IcmpType == (IsV6 ? 129 : 0);

    /// <summary>
    /// An ICMP error (IPv4: unreachable, source quench, redirect, time exceeded, parameter problem; IPv6: types 1–4):
    /// a response to something this node sent.
    /// </summary>
    public readonly bool IsIcmpError => IsIcmp && (IsV6 ? IcmpType is >= 1 and <= 4 : IcmpType is 3 or 4 or 5 or 11 or 12);

    /// <summary>Whether the protocol has 16-bit ports at the start of its header.</summary>
    public static bool HasPorts(byte protocol) => protocol is ProtocolTcp or ProtocolUdp or ProtocolSctp;

    /// <summary>
    /// Reads <paramref name="packet"/>; false when it is not IPv4 or IPv6, or shorter than the headers it claims
    /// (a transport header cut short counts as malformed, not as "no ports").
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out PacketSummary summary)
    {
        summary = default;
        if (packet.IsEmpty)
        {
            return false;
        }

        int transport;
        switch (packet[0] >> 4)
        {
            case 4:
            {
                var headerLength = (packet[0] & 0x0F) * 4;
                if (headerLength < 20 || packet.Length < headerLength)
                {
                    return false;
                }

                summary.Protocol = packet[9];
                summary.Source = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
                summary.Destination = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
                if ((BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1FFF) != 0)
                {
                    summary.IsLaterFragment = true;
                    return true;
                }

                transport = headerLength;
                break;
            }

            case 6:
            {
                if (packet.Length < 40)
                {
                    return false;
                }

                summary.IsV6 = true;
                summary.Protocol = packet[6];
                summary.Source = BinaryPrimitives.ReadUInt128BigEndian(packet[8..]);
                summary.Destination = BinaryPrimitives.ReadUInt128BigEndian(packet[24..]);
                transport = 40;
                if (summary.Protocol == Ipv6FragmentHeader)
                {
                    if (packet.Length < 48)
                    {
                        return false;
                    }

                    summary.Protocol = packet[40];
                    if ((BinaryPrimitives.ReadUInt16BigEndian(packet[42..]) & 0xFFF8) != 0)
                    {
                        summary.IsLaterFragment = true;
                        return true;
                    }

                    transport = 48;
                }

                break;
            }

            default:
                return false;
        }

        var rest = packet[transport..];
        if (HasPorts(summary.Protocol))
        {
            if (rest.Length < 4 || (summary.Protocol == ProtocolTcp && rest.Length < 14))
            {
                return false;
            }

            summary.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(rest);
            summary.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
            if (summary.Protocol == ProtocolTcp)
            {
                summary.TcpFlags = rest[13];
            }
        }
        else if (summary.IsIcmp)
        {
            if (rest.Length < 4)
            {
                return false;
            }

            summary.IcmpType = rest[0];
            if (summary.IsEchoRequest || summary.IsEchoReply)
            {
                if (rest.Length < 8)
                {
                    return false;
                }

                summary.IcmpEchoId = BinaryPrimitives.ReadUInt16BigEndian(rest[4..]);
            }
        }

        return true;
    }
}
