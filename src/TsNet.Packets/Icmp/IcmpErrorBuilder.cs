using System.Buffers.Binary;

namespace TsNet.Packets;

/// <summary>
/// Writes complete IPv4/IPv6 packets carrying an ICMP error message (destination unreachable, packet too big, …)
/// that quotes an invoking packet, checksums filled. The caller chooses how much to quote (<see cref="Ipv4QuoteLength"/>,
/// <see cref="Ipv6QuoteLength"/> give the RFC amounts).
/// </summary>
internal static class IcmpErrorBuilder
{
    /// <summary>Bytes of the invoking packet's data an ICMPv4 error quotes behind its IP header (RFC 792: 64 bits).</summary>
    public const int Ipv4QuotedDataBytes = 8;

    /// <summary>Largest ICMPv6 error packet: the IPv6 minimum MTU (RFC 4443 §2.4(c)).</summary>
    public const int Ipv6MaxErrorPacketBytes = 1280;

    /// <summary>Bytes in front of the quote in an IPv4 error packet.</summary>
    public const int Ipv4Overhead = Ipv4Header.Length + Icmpv4Packet.HeaderLength;

    /// <summary>Bytes in front of the quote in an IPv6 error packet.</summary>
    public const int Ipv6Overhead = Ipv6Header.Length + Icmpv6Packet.HeaderLength;

    /// <summary>ICMPv4 source quench (deprecated, RFC 6633), an error type.</summary>
    private const byte SourceQuench = 4;

    /// <summary>ICMPv4 redirect, an error type.</summary>
    private const byte Redirect = 5;

    /// <summary>ICMPv4 parameter problem, an error type.</summary>
    private const byte ParameterProblem = 12;

    /// <summary>ICMPv6 types from 128 up are informational.</summary>
    private const byte Icmpv6InformationalTypeFirst = 128;

    /// <summary>How much of an invoking IPv4 packet an error quotes: its header (options included) and 8 data bytes.</summary>
    public static int Ipv4QuoteLength(int headerLength, int totalLength) => Math.Min(totalLength, headerLength + Ipv4QuotedDataBytes);

    /// <summary>How much of an invoking IPv6 packet an error quotes: as much as fits a 1280-byte error packet.</summary>
    public static int Ipv6QuoteLength(int packetLength) => Math.Min(packetLength, Ipv6MaxErrorPacketBytes - Ipv6Overhead);

    /// <summary>
    /// Writes an IPv4 packet from <paramref name="source"/> to <paramref name="target"/> with an ICMPv4 error of
    /// <paramref name="type"/>/<paramref name="code"/>, second word <paramref name="restOfHeader"/> (zero, or the
    /// next-hop MTU in its low 16 bits for "fragmentation needed") and <paramref name="quote"/>; returns its length.
    /// </summary>
    public static int WriteIpv4(
        Span<byte> destination, uint source, uint target, byte type, byte code, uint restOfHeader, ReadOnlySpan<byte> quote)
    {
        int messageLength = Icmpv4Packet.HeaderLength + quote.Length;
        int length = Ipv4Header.Length + messageLength;
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small for the error packet.", nameof(destination));
        }

        new Ipv4Header(source, target, IpProtocol.Icmp, Ipv4Header.DefaultTimeToLive, messageLength).Emit(destination);
        Span<byte> message = destination.Slice(Ipv4Header.Length, messageLength);
        WriteMessage(message, type, code, restOfHeader, quote);
        Icmpv4Packet.FillChecksum(message);
        return length;
    }

    /// <summary>
    /// Writes an IPv6 packet from <paramref name="source"/> to <paramref name="target"/> with an ICMPv6 error of
    /// <paramref name="type"/>/<paramref name="code"/>, second word <paramref name="restOfHeader"/> (zero, or the MTU
    /// for "packet too big") and <paramref name="quote"/>; returns its length.
    /// </summary>
    public static int WriteIpv6(
        Span<byte> destination, UInt128 source, UInt128 target, byte type, byte code, uint restOfHeader, ReadOnlySpan<byte> quote)
    {
        int messageLength = Icmpv6Packet.HeaderLength + quote.Length;
        int length = Ipv6Header.Length + messageLength;
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small for the error packet.", nameof(destination));
        }

        new Ipv6Header(source, target, IpProtocol.Icmpv6, Ipv6Header.DefaultHopLimit, messageLength).Emit(destination);
        Span<byte> message = destination.Slice(Ipv6Header.Length, messageLength);
        WriteMessage(message, type, code, restOfHeader, quote);
        Icmpv6Packet.FillChecksum(
            message,
            destination.Slice(Ipv6Packet.SourceOffset, Ipv6Packet.AddressLength),
            destination.Slice(Ipv6Packet.DestinationOffset, Ipv6Packet.AddressLength));
        return length;
    }

    /// <summary>True for ICMPv4 types that report an error (RFC 1122 §3.2.2: never answer one with another).</summary>
    public static bool IsIpv4Error(byte type) => type is Icmpv4Type.DestinationUnreachable or SourceQuench or Redirect
        or Icmpv4Type.TimeExceeded or ParameterProblem;

    /// <summary>True for ICMPv6 error messages: types 0–127 (RFC 4443 §2.1).</summary>
    public static bool IsIpv6Error(byte type) => type < Icmpv6InformationalTypeFirst;

    private static void WriteMessage(Span<byte> message, byte type, byte code, uint restOfHeader, ReadOnlySpan<byte> quote)
    {
        // ICMPv4 and ICMPv6 error messages share one layout: type, code, checksum, one word, the quote.
        message[Icmpv4Packet.TypeOffset] = type;
        message[Icmpv4Packet.CodeOffset] = code;
        BinaryPrimitives.WriteUInt16BigEndian(message[Icmpv4Packet.ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(message[Icmpv4Packet.IdentifierOffset..], restOfHeader);
        quote.CopyTo(message[Icmpv4Packet.HeaderLength..]);
    }
}
