using System.Buffers.Binary;

namespace TsNet.Packets;

/// <summary>
/// A checked read-only view of the packet an ICMP error quotes (the "invoking packet": RFC 792's internet header +
/// 64 bits of data, RFC 4443 §2.4(c)'s "as much as possible"). Unlike <see cref="Ipv4Packet"/> and
/// <see cref="Ipv6Packet"/> it accepts a quote cut short of the quoted packet's own length fields — that is what a
/// quote is — but every header it reads is bounds-checked against the bytes actually present.
/// </summary>
/// <remarks>
/// <see cref="TryCreateIpv4"/> requires the whole IPv4 header (options included); <see cref="TryCreateIpv6"/> the
/// fixed header, and walks Hop-by-Hop, Routing and Destination Options headers that are present in full to find the
/// upper layer (at most <see cref="Ipv6Packet.MaxExtensionHeaders"/>). <see cref="Transport"/> is whatever follows,
/// possibly empty; <see cref="TryGetPorts"/> needs its first 4 bytes (the UDP and TCP port pair).
/// </remarks>
internal readonly ref struct IcmpQuotedPacket
{
    private const int PortsLength = 4;
    private const int ExtensionHeaderUnit = 8;
    private const int Ipv6FragmentHeaderLength = 8;
    private const int Ipv6FragmentOffsetFieldOffset = 2;
    private const ushort Ipv6FragmentOffsetMask = 0xFFF8;

    private readonly ReadOnlySpan<byte> _quote;
    private readonly int _transportOffset;

    private IcmpQuotedPacket(ReadOnlySpan<byte> quote, bool isIpv6, byte protocol, int transportOffset, bool isLaterFragment)
    {
        _quote = quote;
        IsIpv6 = isIpv6;
        Protocol = protocol;
        _transportOffset = transportOffset;
        IsLaterFragment = isLaterFragment;
    }

    /// <summary>True for a quoted IPv6 packet.</summary>
    public bool IsIpv6 { get; }

    /// <summary>Upper-layer protocol of the quoted packet (<see cref="IpProtocol"/>).</summary>
    public byte Protocol { get; }

    /// <summary>True when the quoted packet is a fragment other than the first: its transport header is not there.</summary>
    public bool IsLaterFragment { get; }

    /// <summary>The quoted source address as a big-endian number (an IPv4 address in the low 32 bits).</summary>
    public UInt128 SourceValue => IsIpv6
        ? BinaryPrimitives.ReadUInt128BigEndian(_quote[Ipv6Packet.SourceOffset..])
        : BinaryPrimitives.ReadUInt32BigEndian(_quote[Ipv4Packet.SourceOffset..]);

    /// <summary>The quoted destination address as a big-endian number (an IPv4 address in the low 32 bits).</summary>
    public UInt128 DestinationValue => IsIpv6
        ? BinaryPrimitives.ReadUInt128BigEndian(_quote[Ipv6Packet.DestinationOffset..])
        : BinaryPrimitives.ReadUInt32BigEndian(_quote[Ipv4Packet.DestinationOffset..]);

    /// <summary>The quoted transport header and data, as far as the quote goes (empty for a later fragment).</summary>
    public ReadOnlySpan<byte> Transport => IsLaterFragment ? [] : _quote[_transportOffset..];

    /// <summary>Reads a quoted IPv4 packet: version 4 and a complete header (IHL ≥ 5, options present).</summary>
    public static bool TryCreateIpv4(ReadOnlySpan<byte> quote, out IcmpQuotedPacket packet)
    {
        packet = default;
        if (quote.Length < Ipv4Packet.MinHeaderLength || quote[Ipv4Packet.VersionAndIhlOffset] >> 4 != Ipv4Packet.Version)
        {
            return false;
        }

        // IHL counts 32-bit words.
        int headerLength = (quote[Ipv4Packet.VersionAndIhlOffset] & 0x0F) * sizeof(uint);
        if (headerLength < Ipv4Packet.MinHeaderLength || headerLength > quote.Length)
        {
            return false;
        }

        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(quote[Ipv4Packet.FlagsAndFragmentOffsetOffset..]);
        bool later = (fragment & Ipv4Packet.FragmentOffsetMask) != 0;
        packet = new IcmpQuotedPacket(quote, isIpv6: false, quote[Ipv4Packet.ProtocolOffset], headerLength, later);
        return true;
    }

    /// <summary>
    /// Reads a quoted IPv6 packet: version 6 and the fixed header, then the extension headers present in full. A
    /// Fragment header ends the walk; the protocol behind it is reported, and <see cref="IsLaterFragment"/> says
    /// whether its offset is non-zero.
    /// </summary>
    public static bool TryCreateIpv6(ReadOnlySpan<byte> quote, out IcmpQuotedPacket packet)
    {
        packet = default;
        if (quote.Length < Ipv6Packet.HeaderLength || quote[Ipv6Packet.VersionTrafficClassFlowLabelOffset] >> 4 != Ipv6Packet.Version)
        {
            return false;
        }

        byte next = quote[Ipv6Packet.NextHeaderOffset];
        int position = Ipv6Packet.HeaderLength;
        for (int count = 0; count < Ipv6Packet.MaxExtensionHeaders; count++)
        {
            switch (next)
            {
                case IpProtocol.HopByHopOptions:
                case IpProtocol.Ipv6Routing:
                case IpProtocol.Ipv6DestinationOptions:
                    if (quote.Length - position < ExtensionHeaderUnit)
                    {
                        return false;
                    }

                    int length = (quote[position + 1] + 1) * ExtensionHeaderUnit;
                    if (length > quote.Length - position)
                    {
                        return false;
                    }

                    next = quote[position];
                    position += length;
                    continue;
                case IpProtocol.Ipv6Fragment:
                    if (quote.Length - position < Ipv6FragmentHeaderLength)
                    {
                        return false;
                    }

                    ushort offset = BinaryPrimitives.ReadUInt16BigEndian(quote[(position + Ipv6FragmentOffsetFieldOffset)..]);
                    bool later = (offset & Ipv6FragmentOffsetMask) != 0;
                    packet = new IcmpQuotedPacket(quote, isIpv6: true, quote[position], position + Ipv6FragmentHeaderLength, later);
                    return true;
                default:
                    packet = new IcmpQuotedPacket(quote, isIpv6: true, next, position, isLaterFragment: false);
                    return true;
            }
        }

        return false;
    }

    /// <summary>Reads the source and destination ports of a quoted UDP or TCP header (their first 4 bytes).</summary>
    public bool TryGetPorts(out ushort sourcePort, out ushort destinationPort)
    {
        ReadOnlySpan<byte> transport = Transport;
        if (transport.Length < PortsLength)
        {
            sourcePort = 0;
            destinationPort = 0;
            return false;
        }

        sourcePort = BinaryPrimitives.ReadUInt16BigEndian(transport);
        destinationPort = BinaryPrimitives.ReadUInt16BigEndian(transport[sizeof(ushort)..]);
        return true;
    }
}
