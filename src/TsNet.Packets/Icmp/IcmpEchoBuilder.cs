using System.Buffers.Binary;
using TsNet.Packets.Buffers;

namespace TsNet.Packets;

/// <summary>Writes complete IPv4/IPv6 packets carrying an ICMP echo request or reply, checksums filled.</summary>
internal static class IcmpEchoBuilder
{
    /// <summary>Bytes in front of the echo data in an IPv4 echo packet.</summary>
    public const int Ipv4Overhead = Ipv4Header.Length + Icmpv4Packet.HeaderLength;

    /// <summary>Bytes in front of the echo data in an IPv6 echo packet.</summary>
    public const int Ipv6Overhead = Ipv6Header.Length + Icmpv6Packet.HeaderLength;

    /// <summary>
    /// Writes an IPv4 packet with an ICMP echo message of <paramref name="type"/> (<see cref="Icmpv4Type.EchoRequest"/>
    /// or <see cref="Icmpv4Type.EchoReply"/>) to the start of <paramref name="destination"/> and returns its length.
    /// </summary>
    public static int WriteIpv4(
        Span<byte> destination, uint source, uint target, byte type, ushort identifier, ushort sequence,
        ReadOnlySpan<byte> data, byte timeToLive = Ipv4Header.DefaultTimeToLive)
    {
        int messageLength = Icmpv4Packet.HeaderLength + data.Length;
        int length = Ipv4Header.Length + messageLength;
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small for the echo packet.", nameof(destination));
        }

        new Ipv4Header(source, target, IpProtocol.Icmp, timeToLive, messageLength).Emit(destination);
        Span<byte> message = destination.Slice(Ipv4Header.Length, messageLength);
        WriteEchoMessage(message, type, identifier, sequence, data);
        Icmpv4Packet.FillChecksum(message);
        return length;
    }

    /// <summary>
    /// Writes an IPv6 packet with an ICMPv6 echo message of <paramref name="type"/> (<see cref="Icmpv6Type.EchoRequest"/>
    /// or <see cref="Icmpv6Type.EchoReply"/>) to the start of <paramref name="destination"/> and returns its length.
    /// </summary>
    public static int WriteIpv6(
        Span<byte> destination, UInt128 source, UInt128 target, byte type, ushort identifier, ushort sequence,
        ReadOnlySpan<byte> data, byte hopLimit = Ipv6Header.DefaultHopLimit)
    {
        int messageLength = Icmpv6Packet.HeaderLength + data.Length;
        int length = Ipv6Header.Length + messageLength;
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small for the echo packet.", nameof(destination));
        }

        new Ipv6Header(source, target, IpProtocol.Icmpv6, hopLimit, messageLength).Emit(destination);
        Span<byte> message = destination.Slice(Ipv6Header.Length, messageLength);
        WriteEchoMessage(message, type, identifier, sequence, data);
        Icmpv6Packet.FillChecksum(
            message,
            destination.Slice(Ipv6Packet.SourceOffset, Ipv6Packet.AddressLength),
            destination.Slice(Ipv6Packet.DestinationOffset, Ipv6Packet.AddressLength));
        return length;
    }

    /// <summary>Appends an IPv4 echo packet to <paramref name="buffer"/>; false when the tailroom is too small.</summary>
    public static bool TryAppendIpv4(
        PacketBuffer buffer, uint source, uint target, byte type, ushort identifier, ushort sequence, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Tailroom < Ipv4Overhead + data.Length)
        {
            return false;
        }

        WriteIpv4(buffer.Append(Ipv4Overhead + data.Length), source, target, type, identifier, sequence, data);
        return true;
    }

    /// <summary>Appends an IPv6 echo packet to <paramref name="buffer"/>; false when the tailroom is too small.</summary>
    public static bool TryAppendIpv6(
        PacketBuffer buffer, UInt128 source, UInt128 target, byte type, ushort identifier, ushort sequence, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Tailroom < Ipv6Overhead + data.Length)
        {
            return false;
        }

        WriteIpv6(buffer.Append(Ipv6Overhead + data.Length), source, target, type, identifier, sequence, data);
        return true;
    }

    private static void WriteEchoMessage(Span<byte> message, byte type, ushort identifier, ushort sequence, ReadOnlySpan<byte> data)
    {
        // ICMPv4 and ICMPv6 echo messages share one layout (RFC 792, RFC 4443 §4.1).
        message[Icmpv4Packet.TypeOffset] = type;
        message[Icmpv4Packet.CodeOffset] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message[Icmpv4Packet.ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(message[Icmpv4Packet.IdentifierOffset..], identifier);
        BinaryPrimitives.WriteUInt16BigEndian(message[Icmpv4Packet.SequenceNumberOffset..], sequence);
        data.CopyTo(message[Icmpv4Packet.HeaderLength..]);
    }
}
