using System.Net;
using System.Net.Sockets;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>ICMPv4/ICMPv6 echo: answering requests in place and matching replies to our own requests.</summary>
internal sealed partial class NetstackCore
{
    private const uint Ipv4LimitedBroadcast = 0xFFFF_FFFF;
    private const uint Ipv4MulticastMask = 0xF000_0000;
    private const uint Ipv4MulticastPrefix = 0xE000_0000;
    private const int Ipv6MulticastShift = 120;
    private const byte Ipv6MulticastPrefix = 0xFF;

    private readonly Queue<EchoReply> _echoReplies;
    private readonly Dictionary<PendingEchoKey, long> _pendingEchoes;

    /// <summary>Echo data we send: a fixed byte pattern, long enough for an MTU-sized ping.</summary>
    private readonly byte[] _echoData;

    /// <summary>Echo requests awaiting their reply.</summary>
    public int PendingEchoCount => _pendingEchoes.Count;

    /// <summary>
    /// Builds an echo request to <paramref name="destination"/> from our address of the same family and queues it
    /// outbound; the reply will surface through <see cref="TryDequeueEchoReply"/>.
    /// </summary>
    /// <returns>False when we have no address of that family, <paramref name="payloadLength"/> does not fit the MTU,
    /// too many requests are pending, or the outbound queue is full.</returns>
    public bool TrySendEchoRequest(IPAddress destination, ushort identifier, ushort sequence, int payloadLength, long now)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.IsIPv4MappedToIPv6)
        {
            destination = destination.MapToIPv4();
        }

        bool isIpv6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        int overhead = isIpv6 ? IcmpEchoBuilder.Ipv6Overhead : IcmpEchoBuilder.Ipv4Overhead;
        if (payloadLength < 0 || payloadLength > _options.Mtu - overhead)
        {
            return false;
        }

        uint source4 = 0;
        UInt128 source6 = UInt128.Zero;
        bool hasSource = destination.AddressFamily switch
        {
            AddressFamily.InterNetwork => _addresses.TryGetIpv4Source(out source4),
            AddressFamily.InterNetworkV6 => _addresses.TryGetIpv6Source(out source6),
            _ => false,
        };
        if (!hasSource)
        {
            return false;
        }

        UInt128 remote = isIpv6 ? Ipv6Header.ToValue(destination) : Ipv4Header.ToValue(destination);
        var key = new PendingEchoKey(remote, isIpv6, identifier, sequence);
        if (_pendingEchoes.Count >= _options.MaxPendingEchoRequests && !_pendingEchoes.ContainsKey(key))
        {
            return false;
        }

        if (_outbound.Count >= _options.OutboundQueueCapacity)
        {
            Counters.CountDrop(NetstackDropReason.OutboundQueueFull);
            return false;
        }

        var buffer = _options.Pool.Rent(PacketBufferPool.DefaultHeadroom);
        ReadOnlySpan<byte> data = _echoData.AsSpan(0, payloadLength);
        bool built = isIpv6
            ? IcmpEchoBuilder.TryAppendIpv6(buffer, source6, remote, Icmpv6Type.EchoRequest, identifier, sequence, data)
            : IcmpEchoBuilder.TryAppendIpv4(buffer, source4, (uint)remote, Icmpv4Type.EchoRequest, identifier, sequence, data);
        if (!built)
        {
            buffer.Return();
            return false;
        }

        _pendingEchoes[key] = now;
        Counters.CountEchoRequestSent();
        return EnqueueOutbound(buffer);
    }

    /// <summary>Forgets a pending echo request (it timed out or was cancelled); a late reply then counts as unmatched.</summary>
    public bool CancelEchoRequest(IPAddress destination, ushort identifier, ushort sequence)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.IsIPv4MappedToIPv6)
        {
            destination = destination.MapToIPv4();
        }

        bool isIpv6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        UInt128 remote = isIpv6 ? Ipv6Header.ToValue(destination) : Ipv4Header.ToValue(destination);
        return _pendingEchoes.Remove(new PendingEchoKey(remote, isIpv6, identifier, sequence));
    }

    /// <summary>Takes the next matched echo reply.</summary>
    public bool TryDequeueEchoReply(out EchoReply reply) => _echoReplies.TryDequeue(out reply);

    private bool ProcessIcmpv4(PacketBuffer packet, Ipv4Packet ip, long now)
    {
        if (!Icmpv4Packet.TryCreate(ip.Payload, out var icmp))
        {
            return Drop(NetstackDropReason.Malformed);
        }

        if (!icmp.IsChecksumValid())
        {
            return Drop(NetstackDropReason.BadChecksum);
        }

        switch (icmp.Type)
        {
            case Icmpv4Type.EchoRequest:
                return AnswerEchoIpv4(packet, ip.SourceValue, ip.DestinationValue, ip.HeaderLength, icmp.Bytes.Length);
            case Icmpv4Type.EchoReply:
                var key = new PendingEchoKey(ip.SourceValue, IsIpv6: false, icmp.Identifier, icmp.SequenceNumber);
                MatchEchoReply(key, now);
                return false;
            case Icmpv4Type.DestinationUnreachable:
                return ProcessIcmpv4DestinationUnreachable(icmp, now);
            default:
                return Drop(NetstackDropReason.UnhandledIcmp);
        }
    }

    private bool ProcessIcmpv6(PacketBuffer packet, Ipv6Packet ip, int offset, long now)
    {
        if (!Icmpv6Packet.TryCreate(ip.Bytes[offset..], out var icmp))
        {
            return Drop(NetstackDropReason.Malformed);
        }

        if (!icmp.IsChecksumValid(ip.Source, ip.Destination))
        {
            return Drop(NetstackDropReason.BadChecksum);
        }

        switch (icmp.Type)
        {
            case Icmpv6Type.EchoRequest:
                return AnswerEchoIpv6(packet, ip.SourceValue, ip.DestinationValue, offset, icmp.Bytes.Length);
            case Icmpv6Type.EchoReply:
                var key = new PendingEchoKey(ip.SourceValue, IsIpv6: true, icmp.Identifier, icmp.SequenceNumber);
                MatchEchoReply(key, now);
                return false;
            case Icmpv6Type.PacketTooBig:
                return ProcessIcmpv6PacketTooBig(icmp, now);
            case Icmpv6Type.DestinationUnreachable:
                return ProcessIcmpv6DestinationUnreachable(icmp, now);
            default:
                return Drop(NetstackDropReason.UnhandledIcmp);
        }
    }

    /// <summary>
    /// Turns an IPv4 echo request into its reply in the same buffer: a fresh 20-byte header (no options; TTL 64;
    /// addresses swapped) is written directly in front of the ICMP message, whose type and checksum are updated.
    /// </summary>
    private bool AnswerEchoIpv4(PacketBuffer packet, uint requester, uint us, int headerLength, int messageLength)
    {
        if (requester is 0 or Ipv4LimitedBroadcast || (requester & Ipv4MulticastMask) == Ipv4MulticastPrefix)
        {
            return Drop(NetstackDropReason.InvalidSource);
        }

        int length = Ipv4Header.Length + messageLength;
        if (length > _options.Mtu)
        {
            return Drop(NetstackDropReason.TooBig);
        }

        int start = packet.Offset + headerLength - Ipv4Header.Length;
        if (!TryPlaceForOutput(ref packet, start, length, preserveFrom: Ipv4Header.Length))
        {
            return Drop(NetstackDropReason.TooBig);
        }

        Span<byte> reply = packet.Span;
        Span<byte> message = reply[Ipv4Header.Length..];
        Icmpv4Packet.SetType(message, Icmpv4Type.EchoReply);
        Icmpv4Packet.FillChecksum(message);
        new Ipv4Header(us, requester, IpProtocol.Icmp, Ipv4Header.DefaultTimeToLive, messageLength).Emit(reply);
        Counters.CountEchoRequestAnswered();
        return EnqueueOutbound(packet);
    }

    /// <summary>
    /// Turns an IPv6 echo request into its reply in the same buffer: a fresh 40-byte header (no extension headers;
    /// hop limit 64; addresses swapped) is written directly in front of the ICMPv6 message.
    /// </summary>
    private bool AnswerEchoIpv6(PacketBuffer packet, UInt128 requester, UInt128 us, int messageOffset, int messageLength)
    {
        if (requester == UInt128.Zero || (byte)(requester >> Ipv6MulticastShift) == Ipv6MulticastPrefix)
        {
            return Drop(NetstackDropReason.InvalidSource);
        }

        int length = Ipv6Header.Length + messageLength;
        if (length > _options.Mtu)
        {
            return Drop(NetstackDropReason.TooBig);
        }

        int start = packet.Offset + messageOffset - Ipv6Header.Length;
        if (!TryPlaceForOutput(ref packet, start, length, preserveFrom: Ipv6Header.Length))
        {
            return Drop(NetstackDropReason.TooBig);
        }

        Span<byte> reply = packet.Span;
        new Ipv6Header(us, requester, IpProtocol.Icmpv6, Ipv6Header.DefaultHopLimit, messageLength).Emit(reply);
        Span<byte> message = reply[Ipv6Header.Length..];
        Icmpv6Packet.SetType(message, Icmpv6Type.EchoReply);
        Icmpv6Packet.FillChecksum(
            message,
            reply.Slice(Ipv6Packet.SourceOffset, Ipv6Packet.AddressLength),
            reply.Slice(Ipv6Packet.DestinationOffset, Ipv6Packet.AddressLength));
        Counters.CountEchoRequestAnswered();
        return EnqueueOutbound(packet);
    }

    private void MatchEchoReply(PendingEchoKey key, long now)
    {
        if (!_pendingEchoes.Remove(key))
        {
            Counters.CountDrop(NetstackDropReason.UnmatchedEchoReply);
            return;
        }

        if (_echoReplies.Count >= _options.EchoReplyQueueCapacity)
        {
            Counters.CountDrop(NetstackDropReason.EchoReplyQueueFull);
            return;
        }

        // One IPAddress per matched reply: pings are rare, and the app wants an address.
        var source = key.IsIpv6 ? Ipv6Header.ToAddress(key.Remote) : Ipv4Header.ToAddress((uint)key.Remote);
        _echoReplies.Enqueue(new EchoReply(source, key.Identifier, key.Sequence, now));
        Counters.CountEchoReplyReceived();
    }
}
