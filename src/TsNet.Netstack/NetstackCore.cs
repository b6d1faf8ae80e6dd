using System.Buffers.Binary;
using TsNet.Netstack.Tcp;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>
/// The sans-IO IP stack: synchronous, no locks, tasks or clock inside — time arrives as <c>now</c> (a
/// <see cref="TimeProvider"/> timestamp) and the next timer is a query (<see cref="NextDeadline"/>). One task owns a
/// core (<see cref="NetstackLoop"/>).
/// </summary>
/// <remarks>
/// <para>Inbound pipeline (<see cref="ProcessInbound"/>), in order: IP version → checked IPv4/IPv6 view (truncated /
/// malformed) → IPv4 header checksum → fragments (dropped: no reassembly) → destination is one of ours → upper
/// protocol. ICMP echo, ICMP errors (<c>NetstackCore.IcmpErrors.cs</c>) and UDP (<c>NetstackCore.Udp.cs</c>) are handled; TCP comes later.</para>
/// <para>Every buffer the core hands out (<see cref="TryDequeueOutbound"/>) starts
/// <see cref="PacketBufferPool.DefaultHeadroom"/> bytes into its array and has <see cref="WireGuardTailroom"/> bytes
/// behind it, so the WireGuard layer can add its header and encrypt in place.</para>
/// </remarks>
internal sealed partial class NetstackCore
{
    /// <summary>Tailroom every outbound packet keeps for WireGuard: up to 15 bytes of padding to a multiple of 16
    /// and the 16-byte Poly1305 tag.</summary>
    public const int WireGuardTailroom = 15 + 16;

    private readonly NetstackOptions _options;
    private LocalAddresses _addresses;
    private readonly Queue<PacketBuffer> _outbound;

    public NetstackCore(NetstackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Pool);
        _addresses = new LocalAddresses(options.Addresses);
        int minimumMtu = _addresses.HasIpv6 ? NetstackOptions.MinimumIpv6Mtu : NetstackOptions.MinimumMtu;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Mtu, minimumMtu, nameof(options.Mtu));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Mtu, ushort.MaxValue, nameof(options.Mtu));
        if (options.Pool.BufferSize < PacketBufferPool.DefaultHeadroom + options.Mtu + WireGuardTailroom)
        {
            throw new ArgumentException("Pool buffers are too small for the MTU plus WireGuard headroom and tailroom.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.OutboundQueueCapacity, 1, nameof(options.OutboundQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.EchoReplyQueueCapacity, 1, nameof(options.EchoReplyQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPendingEchoRequests, 1, nameof(options.MaxPendingEchoRequests));

        _options = options;
        InitializeUdp(options);
        _outbound = new Queue<PacketBuffer>(options.OutboundQueueCapacity);
        _echoReplies = new Queue<EchoReply>(options.EchoReplyQueueCapacity);
        _pendingEchoes = new Dictionary<PendingEchoKey, long>(options.MaxPendingEchoRequests);
        _echoData = new byte[options.Mtu];
        for (int i = 0; i < _echoData.Length; i++)
        {
            _echoData[i] = (byte)i;
        }
    }

    /// <summary>Packet and drop counters.</summary>
    public NetstackCounters Counters { get; } = new();

    /// <summary>Time (the owner's timestamp) at which <see cref="Poll"/> must next run.</summary>
    public long NextDeadline => NextTcpDeadline;

    /// <summary>Packets waiting in the outbound queue.</summary>
    public int OutboundCount => _outbound.Count;

    /// <summary>Runs timers due at <paramref name="now"/>; changed TCP sockets show up in <see cref="TakeTouchedTcp"/>.</summary>
    public void Poll(long now) => PollTcp(now);

    /// <summary>
    /// Processes one IP packet from the dataplane. Takes ownership of <paramref name="packet"/>: it is either reused
    /// for a reply (queued outbound) or returned to its pool. Malformed input is dropped and counted, never thrown.
    /// </summary>
    public void ProcessInbound(PacketBuffer packet, long now)
    {
        ArgumentNullException.ThrowIfNull(packet);
        Counters.CountInbound();
        _lastNow = now;
        if (!Dispatch(packet, now))
        {
            packet.Return();
        }
    }

    /// <summary>Takes the next packet for the dataplane; the caller owns it.</summary>
    public bool TryDequeueOutbound(out PacketBuffer packet) => _outbound.TryDequeue(out packet!);

    /// <summary>Looks at the next packet for the dataplane without taking it.</summary>
    public bool TryPeekOutbound(out PacketBuffer packet) => _outbound.TryPeek(out packet!);

    /// <summary>Returns every buffer the core holds to its pool and forgets pending echo requests and replies.</summary>
    public void Clear()
    {
        while (_outbound.TryDequeue(out var packet))
        {
            packet.Return();
        }

        _echoReplies.Clear();
        _pendingEchoes.Clear();
        ClearTcp();
        ClearUdp();
    }

    /// <returns>True when ownership of <paramref name="packet"/> moved on (queued); false when the caller returns it.</returns>
    private bool Dispatch(PacketBuffer packet, long now)
    {
        ReadOnlySpan<byte> bytes = packet.Span;
        if (bytes.IsEmpty)
        {
            return Drop(NetstackDropReason.Truncated);
        }

        return (bytes[0] >> 4) switch
        {
            4 => DispatchIpv4(packet, now),
            6 => DispatchIpv6(packet, now),
            _ => Drop(NetstackDropReason.Malformed),
        };
    }

    private bool DispatchIpv4(PacketBuffer packet, long now)
    {
        ReadOnlySpan<byte> bytes = packet.Span;
        if (!Ipv4Packet.TryCreate(bytes, out var ip))
        {
            return Drop(IsIpv4Truncated(bytes) ? NetstackDropReason.Truncated : NetstackDropReason.Malformed);
        }

        if (!ip.IsChecksumValid())
        {
            return Drop(NetstackDropReason.BadChecksum);
        }

        if (ip.IsFragment)
        {
            return Drop(NetstackDropReason.Fragment);
        }

        bool isLocal = _addresses.IsLocal(ip.DestinationValue);
        if (ip.Protocol == IpProtocol.Tcp && (isLocal || UnmatchedTcpFlow is not null || _tcp.Count > 0))
        {
            // Non-local destinations reach TCP only for flows the unmatched-flow hook may claim (or already did).
            return ProcessTcp(packet, TcpAddress.FromBytes(ip.Source), TcpAddress.FromBytes(ip.Destination), ip.HeaderLength, isLocal, now);
        }

        if (!isLocal)
        {
            return Drop(NetstackDropReason.NotOurAddress);
        }

        return ip.Protocol switch
        {
            IpProtocol.Icmp => ProcessIcmpv4(packet, ip, now),
            IpProtocol.Udp => ProcessUdpIpv4(packet, ip, now),
            _ => Drop(NetstackDropReason.UnsupportedProtocol),
        };
    }

    private bool DispatchIpv6(PacketBuffer packet, long now)
    {
        ReadOnlySpan<byte> bytes = packet.Span;
        if (!Ipv6Packet.TryCreate(bytes, out var ip))
        {
            return Drop(NetstackDropReason.Truncated);
        }

        if (!ip.TryFindUpperLayer(out byte protocol, out int offset))
        {
            return Drop(NetstackDropReason.Malformed);
        }

        if (protocol == IpProtocol.Ipv6Fragment)
        {
            return Drop(NetstackDropReason.Fragment);
        }

        bool isLocal = _addresses.IsLocal(ip.DestinationValue);
        if (protocol == IpProtocol.Tcp && (isLocal || UnmatchedTcpFlow is not null || _tcp.Count > 0))
        {
            return ProcessTcp(packet, TcpAddress.FromBytes(ip.Source), TcpAddress.FromBytes(ip.Destination), offset, isLocal, now);
        }

        if (!isLocal)
        {
            return Drop(NetstackDropReason.NotOurAddress);
        }

        return protocol switch
        {
            IpProtocol.Icmpv6 => ProcessIcmpv6(packet, ip, offset, now),
            IpProtocol.Udp => ProcessUdpIpv6(packet, ip, offset, now),
            _ => Drop(NetstackDropReason.UnsupportedProtocol),
        };
    }

    /// <summary>Tells a truncated IPv4 packet (too short for its header or length field) from a malformed one.</summary>
    private static bool IsIpv4Truncated(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Ipv4Packet.MinHeaderLength)
        {
            return true;
        }

        // IHL counts 32-bit words.
        int headerLength = (bytes[Ipv4Packet.VersionAndIhlOffset] & 0x0F) * sizeof(uint);
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[Ipv4Packet.TotalLengthOffset..]);
        return headerLength >= Ipv4Packet.MinHeaderLength && totalLength >= headerLength && totalLength > bytes.Length;
    }

    /// <summary>Queues a packet for the dataplane; on a full queue the packet is returned and counted.</summary>
    /// <returns>True: ownership moved (queued or already returned), so the caller must not return it.</returns>
    private bool EnqueueOutbound(PacketBuffer packet)
    {
        if (_outbound.Count >= _options.OutboundQueueCapacity)
        {
            Counters.CountDrop(NetstackDropReason.OutboundQueueFull);
            packet.Return();
            return true;
        }

        _outbound.Enqueue(packet);
        Counters.CountOutbound();
        return true;
    }

    /// <summary>
    /// Makes <paramref name="packet"/> hold <paramref name="length"/> bytes that start at <paramref name="start"/>
    /// (an offset into its array) with the headroom and tailroom the dataplane needs, moving the bytes inside the
    /// array or into a fresh pool buffer when they do not fit where they are. The first
    /// <paramref name="preserveFrom"/> bytes are about to be overwritten and are not copied.
    /// </summary>
    private bool TryPlaceForOutput(ref PacketBuffer packet, int start, int length, int preserveFrom)
    {
        const int Headroom = PacketBufferPool.DefaultHeadroom;
        byte[] array = packet.Array;
        if (start >= Headroom && array.Length - start - length >= WireGuardTailroom)
        {
            packet.SetRange(start, length);
            return true;
        }

        if (array.Length >= Headroom + length + WireGuardTailroom)
        {
            // Array.Copy is memmove-safe for overlapping ranges of one array.
            Array.Copy(array, start + preserveFrom, array, Headroom + preserveFrom, length - preserveFrom);
            packet.SetRange(Headroom, length);
            return true;
        }

        if (_options.Pool.BufferSize < Headroom + length + WireGuardTailroom)
        {
            return false;
        }

        var replacement = _options.Pool.Rent(Headroom);
        replacement.SetLength(length);
        array.AsSpan(start + preserveFrom, length - preserveFrom).CopyTo(replacement.Span[preserveFrom..]);
        packet.Return();
        packet = replacement;
        return true;
    }

    private bool Drop(NetstackDropReason reason)
    {
        Counters.CountDrop(reason);
        return false;
    }
}
