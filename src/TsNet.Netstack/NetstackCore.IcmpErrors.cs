using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TsNet.Netstack.Tcp;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>
/// ICMP errors: the port unreachable messages we send, and the errors we act on — "fragmentation needed" / "packet
/// too big" (a per-destination path MTU for TCP to query) and port unreachable about our own UDP datagrams.
/// </summary>
/// <remarks>
/// <para>Sending (<see cref="TrySendPortUnreachable"/>), in order: the invoking packet must be a valid IPv4/IPv6
/// packet → not a non-first fragment → not addressed to a broadcast, multicast or unspecified address → from an
/// address that names a single host (not unspecified, loopback, broadcast, multicast or IPv4 class E) → not itself
/// an ICMP error (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7, RFC 4443 §2.4(e)) → a token from the rate limiter (100/s,
/// burst 50 by default: <see cref="IcmpErrorOptions"/>). The error goes from the address the invoking packet was sent
/// to and quotes it: over IPv4 its header and the first 8 data bytes (RFC 792), over IPv6 as much as keeps the error
/// within 1280 bytes (RFC 4443 §2.4(c)).</para>
/// <para>Receiving: the quoted packet must be one we sent (its source is one of our addresses), else the error is
/// dropped as <see cref="NetstackDropReason.InvalidIcmpError"/>. A port unreachable about a UDP datagram is counted
/// (globally and on the socket that sent it) and otherwise ignored: an unconnected socket on Linux does the same
/// (errors surface only on connected sockets or with <c>IP_RECVERR</c>), and failing a socket on an unauthenticated
/// message would hand any tailnet peer a way to break it.</para>
/// </remarks>
internal sealed partial class NetstackCore
{
    /// <summary>Addresses from 224.0.0.0 up are multicast (224/4), reserved class E (240/4) or the limited broadcast.</summary>
    private const uint Ipv4FirstNonUnicast = 0xE000_0000;

    /// <summary>0/8 is "this network" (RFC 1122 §3.2.1.3) and 127/8 loopback: neither names a remote host.</summary>
    private const int Ipv4ThisNetworkOctet = 0;

    private const int Ipv4LoopbackOctet = 127;

    private const int Ipv4FirstOctetShift = 24;

    /// <summary>ICMPv6 destination unreachable code: port unreachable (RFC 4443 §3.1).</summary>
    private const byte Icmpv6PortUnreachableCode = 4;

    /// <summary>IPv6 Fragment header: offset of the fragment offset field and the mask of the offset bits.</summary>
    private const int Ipv6FragmentOffsetFieldOffset = 2;

    private const ushort Ipv6FragmentOffsetMask = 0xFFF8;

    private IcmpErrorRateLimiter _icmpErrorLimiter = null!;
    private PathMtuTable _pathMtus = null!;

    /// <summary>The newest <c>now</c> the core was given, for queries that come without one.</summary>
    private long _lastNow;

    /// <summary>ICMP error counters.</summary>
    public IcmpErrorCounters IcmpErrorCounters { get; } = new();

    /// <summary>Tokens left in the ICMP error rate limiter (as of its last use).</summary>
    public long IcmpErrorTokens => _icmpErrorLimiter.Tokens;

    /// <summary>Destinations with a learned path MTU (live or not yet swept).</summary>
    public int PathMtuEntryCount => _pathMtus.Count;

    /// <summary>
    /// The largest IP packet to send to <paramref name="destination"/>: a path MTU learned from ICMP and not yet
    /// expired, else the link MTU — as of the newest time the core was given. TCP sizes segments with it.
    /// </summary>
    public int PathMtu(IPAddress destination) => PathMtu(destination, _lastNow);

    /// <summary>The largest IP packet to send to <paramref name="destination"/> at <paramref name="now"/>.</summary>
    public int PathMtu(IPAddress destination, long now)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.IsIPv4MappedToIPv6)
        {
            destination = destination.MapToIPv4();
        }

        return destination.AddressFamily switch
        {
            AddressFamily.InterNetwork => _pathMtus.Get(Ipv4Header.ToValue(destination), isIpv6: false, _options.Mtu, now),
            AddressFamily.InterNetworkV6 => _pathMtus.Get(Ipv6Header.ToValue(destination), isIpv6: true, _options.Mtu, now),
            _ => throw new ArgumentException("Not an IP address.", nameof(destination)),
        };
    }

    /// <summary>
    /// Answers <paramref name="offendingPacket"/> (a whole IPv4 or IPv6 packet that arrived for a closed UDP port)
    /// with an ICMPv4 port unreachable (type 3 code 3) or ICMPv6 destination unreachable code 4, unless a rule
    /// forbids it (counted as suppressed) or the rate limiter is empty (counted as rate limited).
    /// </summary>
    /// <returns>True when an error was queued outbound.</returns>
    internal bool TrySendPortUnreachable(ReadOnlySpan<byte> offendingPacket, long now)
    {
        _lastNow = now;
        if (offendingPacket.IsEmpty)
        {
            IcmpErrorCounters.CountSuppressed();
            return false;
        }

        return (offendingPacket[0] >> 4) switch
        {
            4 => TrySendPortUnreachableIpv4(offendingPacket, now),
            6 => TrySendPortUnreachableIpv6(offendingPacket, now),
            _ => Suppress(),
        };
    }

    private bool TrySendPortUnreachableIpv4(ReadOnlySpan<byte> bytes, long now)
    {
        if (!Ipv4Packet.TryCreate(bytes, out var ip)
            || ip.FragmentOffset != 0
            || !IsIpv4SingleHost(ip.DestinationValue)
            || !IsIpv4SingleHost(ip.SourceValue)
            || IsIpv4IcmpError(ip))
        {
            return Suppress();
        }

        uint us = ip.DestinationValue;
        if (!_addresses.IsLocal(us) && !_addresses.TryGetIpv4Source(out us))
        {
            return Suppress();
        }

        int quoteLength = IcmpErrorBuilder.Ipv4QuoteLength(ip.HeaderLength, ip.TotalLength);
        int length = IcmpErrorBuilder.Ipv4Overhead + quoteLength;
        if (length > _options.Mtu || !TakeIcmpErrorToken(now))
        {
            return false;
        }

        var buffer = _options.Pool.Rent(PacketBufferPool.DefaultHeadroom);
        IcmpErrorBuilder.WriteIpv4(
            buffer.Append(length), us, ip.SourceValue, Icmpv4Type.DestinationUnreachable, Icmpv4Type.PortUnreachableCode,
            restOfHeader: 0, ip.Bytes[..quoteLength]);
        return QueueIcmpError(buffer);
    }

    private bool TrySendPortUnreachableIpv6(ReadOnlySpan<byte> bytes, long now)
    {
        if (!Ipv6Packet.TryCreate(bytes, out var ip)
            || !ip.TryFindUpperLayer(out byte protocol, out int offset)
            || !IsIpv6SingleHost(ip.DestinationValue)
            || !IsIpv6SingleHost(ip.SourceValue)
            || IsIpv6LaterFragmentOrIcmpError(ip, protocol, offset))
        {
            return Suppress();
        }

        UInt128 us = ip.DestinationValue;
        if (!_addresses.IsLocal(us) && !_addresses.TryGetIpv6Source(out us))
        {
            return Suppress();
        }

        int quoteLength = IcmpErrorBuilder.Ipv6QuoteLength(ip.Bytes.Length);
        quoteLength = Math.Min(quoteLength, _options.Mtu - IcmpErrorBuilder.Ipv6Overhead);
        int length = IcmpErrorBuilder.Ipv6Overhead + quoteLength;
        if (!TakeIcmpErrorToken(now))
        {
            return false;
        }

        var buffer = _options.Pool.Rent(PacketBufferPool.DefaultHeadroom);
        IcmpErrorBuilder.WriteIpv6(
            buffer.Append(length), us, ip.SourceValue, Icmpv6Type.DestinationUnreachable, Icmpv6PortUnreachableCode,
            restOfHeader: 0, ip.Bytes[..quoteLength]);
        return QueueIcmpError(buffer);
    }

    private bool TakeIcmpErrorToken(long now)
    {
        if (_icmpErrorLimiter.TryTake(now))
        {
            return true;
        }

        IcmpErrorCounters.CountRateLimited();
        return false;
    }

    private bool QueueIcmpError(PacketBuffer buffer)
    {
        if (_outbound.Count >= _options.OutboundQueueCapacity)
        {
            Counters.CountDrop(NetstackDropReason.OutboundQueueFull);
            buffer.Return();
            return false;
        }

        EnqueueOutbound(buffer);
        IcmpErrorCounters.CountUnreachableSent();
        return true;
    }

    private bool Suppress()
    {
        IcmpErrorCounters.CountSuppressed();
        return false;
    }

    /// <summary>False for 0/8, 127/8, multicast, class E and the limited broadcast.</summary>
    private static bool IsIpv4SingleHost(uint address) =>
        address < Ipv4FirstNonUnicast && (address >> Ipv4FirstOctetShift) is not (Ipv4ThisNetworkOctet or Ipv4LoopbackOctet);

    /// <summary>False for ::, ::1 and multicast (ff00::/8).</summary>
    private static bool IsIpv6SingleHost(UInt128 address) =>
        address > UInt128.One && (byte)(address >> Ipv6MulticastShift) != Ipv6MulticastPrefix;

    /// <summary>True for an ICMP error, or an ICMP message too short to tell (never answer what might be one).</summary>
    private static bool IsIpv4IcmpError(Ipv4Packet ip) =>
        ip.Protocol == IpProtocol.Icmp && (ip.Payload.IsEmpty || IcmpErrorBuilder.IsIpv4Error(ip.Payload[Icmpv4Packet.TypeOffset]));

    private static bool IsIpv6LaterFragmentOrIcmpError(Ipv6Packet ip, byte protocol, int offset)
    {
        ReadOnlySpan<byte> upper = ip.Bytes[offset..];
        return protocol switch
        {
            IpProtocol.Ipv6Fragment => upper.Length < sizeof(ulong)
                || (BinaryPrimitives.ReadUInt16BigEndian(upper[Ipv6FragmentOffsetFieldOffset..]) & Ipv6FragmentOffsetMask) != 0
                || upper[0] == IpProtocol.Icmpv6, // a first fragment of ICMPv6: its type may be an error, do not risk it
            IpProtocol.Icmpv6 => upper.IsEmpty || IcmpErrorBuilder.IsIpv6Error(upper[Icmpv6Packet.TypeOffset]),
            _ => false,
        };
    }

    /// <summary>ICMPv4 destination unreachable: fragmentation needed (path MTU) or port unreachable (counted).</summary>
    private bool ProcessIcmpv4DestinationUnreachable(Icmpv4Packet icmp, long now)
    {
        _lastNow = now;
        if (!IcmpQuotedPacket.TryCreateIpv4(icmp.Payload, out var quoted) || !_addresses.IsLocal((uint)quoted.SourceValue))
        {
            return Drop(NetstackDropReason.InvalidIcmpError);
        }

        switch (icmp.Code)
        {
            case Icmpv4Type.FragmentationNeededCode:
                // A next-hop MTU of 0 comes from a router older than RFC 1191: assume the minimum.
                _pathMtus.Record(quoted.DestinationValue, isIpv6: false, icmp.NextHopMtu, _options.Mtu, now);
                IcmpErrorCounters.CountPacketTooBigReceived();
                ApplyPathMtuToTcp(TcpAddress.FromIPAddress(Ipv4Header.ToAddress((uint)quoted.DestinationValue)), now);
                return false;
            case Icmpv4Type.PortUnreachableCode when quoted.Protocol == IpProtocol.Udp:
                return NotePortUnreachable(quoted);
            default:
                return Drop(NetstackDropReason.UnhandledIcmp);
        }
    }

    /// <summary>ICMPv6 packet too big (path MTU).</summary>
    private bool ProcessIcmpv6PacketTooBig(Icmpv6Packet icmp, long now)
    {
        _lastNow = now;
        if (!IcmpQuotedPacket.TryCreateIpv6(icmp.Payload, out var quoted) || !_addresses.IsLocal(quoted.SourceValue))
        {
            return Drop(NetstackDropReason.InvalidIcmpError);
        }

        int mtu = (int)Math.Min(icmp.Mtu, int.MaxValue);
        _pathMtus.Record(quoted.DestinationValue, isIpv6: true, mtu, _options.Mtu, now);
        IcmpErrorCounters.CountPacketTooBigReceived();
        ApplyPathMtuToTcp(TcpAddress.FromIPAddress(Ipv6Header.ToAddress(quoted.DestinationValue)), now);
        return false;
    }

    /// <summary>ICMPv6 destination unreachable: port unreachable is counted, other codes are not acted on.</summary>
    private bool ProcessIcmpv6DestinationUnreachable(Icmpv6Packet icmp, long now)
    {
        _lastNow = now;
        if (!IcmpQuotedPacket.TryCreateIpv6(icmp.Payload, out var quoted) || !_addresses.IsLocal(quoted.SourceValue))
        {
            return Drop(NetstackDropReason.InvalidIcmpError);
        }

        return icmp.Code == Icmpv6PortUnreachableCode && quoted.Protocol == IpProtocol.Udp
            ? NotePortUnreachable(quoted)
            : Drop(NetstackDropReason.UnhandledIcmp);
    }

    /// <summary>Counts a port unreachable about a datagram we sent, on the socket that sent it when it is still bound.</summary>
    private bool NotePortUnreachable(IcmpQuotedPacket quoted)
    {
        if (!quoted.TryGetPorts(out ushort sourcePort, out _))
        {
            return Drop(NetstackDropReason.InvalidIcmpError);
        }

        IcmpErrorCounters.CountPortUnreachableReceived();
        _udpSockets.Find(quoted.SourceValue, quoted.IsIpv6, sourcePort)?.CountPortUnreachable();
        return false;
    }

    private void InitializeIcmpErrors(NetstackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.IcmpErrors);
        options.IcmpErrors.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TimestampFrequency, 1, nameof(options.TimestampFrequency));
        _icmpErrorLimiter = new IcmpErrorRateLimiter(options.IcmpErrors.ErrorsPerSecond, options.IcmpErrors.Burst, options.TimestampFrequency);
        long expiryTicks = (long)Math.Min(options.IcmpErrors.PathMtuExpiry.TotalSeconds * options.TimestampFrequency, long.MaxValue / 2);
        _pathMtus = new PathMtuTable(options.IcmpErrors.PathMtuCapacity, Math.Max(1, expiryTicks));
    }
}
