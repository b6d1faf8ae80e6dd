using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Packets;

/// <summary>
/// The validated meaning of an IPv6 fixed header (smoltcp's <c>Ipv6Repr</c>). Traffic class and flow label are
/// written as zero; extension headers are not represented (TsNet never sends them).
/// </summary>
/// <param name="Source">Source address as a big-endian number.</param>
/// <param name="Destination">Destination address as a big-endian number.</param>
/// <param name="NextHeader">Protocol of the payload (<see cref="IpProtocol"/>).</param>
/// <param name="HopLimit">Hop limit.</param>
/// <param name="PayloadLength">Payload length in bytes.</param>
internal readonly record struct Ipv6Header(UInt128 Source, UInt128 Destination, byte NextHeader, byte HopLimit, int PayloadLength)
{
    /// <summary>Hop limit TsNet uses for packets it originates (the Linux default).</summary>
    public const byte DefaultHopLimit = 64;

    /// <summary>Length of the header <see cref="Emit"/> writes.</summary>
    public const int Length = Ipv6Packet.HeaderLength;

    /// <summary>Largest payload the 16-bit Payload Length field can describe (no jumbograms).</summary>
    public const int MaxPayloadLength = ushort.MaxValue;

    /// <summary>
    /// Reads the meaning of a checked view, walking extension headers to the upper layer: <see cref="NextHeader"/>
    /// becomes the upper-layer protocol and <see cref="PayloadLength"/> its length, and <paramref name="payloadOffset"/>
    /// says where it starts. Fails for a malformed extension chain and for fragments.
    /// </summary>
    public static bool TryParse(Ipv6Packet packet, out Ipv6Header header, out int payloadOffset)
    {
        if (!packet.TryFindUpperLayer(out byte protocol, out payloadOffset) || protocol == IpProtocol.Ipv6Fragment)
        {
            header = default;
            payloadOffset = 0;
            return false;
        }

        header = new Ipv6Header(packet.SourceValue, packet.DestinationValue, protocol, packet.HopLimit, packet.Bytes.Length - payloadOffset);
        return true;
    }

    /// <summary>Writes the 40-byte fixed header to the start of <paramref name="destination"/>.</summary>
    public void Emit(Span<byte> destination)
    {
        if ((uint)PayloadLength > MaxPayloadLength)
        {
            throw new InvalidOperationException("Payload too long for IPv6 without jumbograms.");
        }

        Span<byte> header = destination[..Length];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)Ipv6Packet.Version << 28);
        BinaryPrimitives.WriteUInt16BigEndian(header[Ipv6Packet.PayloadLengthOffset..], (ushort)PayloadLength);
        header[Ipv6Packet.NextHeaderOffset] = NextHeader;
        header[Ipv6Packet.HopLimitOffset] = HopLimit;
        BinaryPrimitives.WriteUInt128BigEndian(header[Ipv6Packet.SourceOffset..], Source);
        BinaryPrimitives.WriteUInt128BigEndian(header[Ipv6Packet.DestinationOffset..], Destination);
    }

    /// <summary>Converts an IPv6 address to its big-endian number without allocating (the scope id is ignored).</summary>
    public static UInt128 ToValue(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException("Not an IPv6 address.", nameof(address));
        }

        Span<byte> bytes = stackalloc byte[Ipv6Packet.AddressLength];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>Converts a big-endian number to an <see cref="IPAddress"/> (allocates).</summary>
    public static IPAddress ToAddress(UInt128 value)
    {
        Span<byte> bytes = stackalloc byte[Ipv6Packet.AddressLength];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
