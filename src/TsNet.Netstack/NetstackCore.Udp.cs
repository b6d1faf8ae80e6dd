using System.Net;
using System.Net.Sockets;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>
/// UDP (RFC 768): binding sockets, demultiplexing inbound datagrams into their receive queues, and building outbound
/// datagrams.
/// </summary>
/// <remarks>
/// <para>Inbound, after the IP checks of <see cref="ProcessInbound"/>: UDP header (length within the IP payload) →
/// checksum (IPv4: zero means "none"; IPv6: mandatory, so zero is invalid) → destination port not 0 → socket by
/// (destination address, port), exact binding before "any" → the packet's own buffer, trimmed to the payload, goes
/// into the socket's receive queue (no copy). No socket: ICMP port unreachable (<see cref="TrySendPortUnreachable"/>)
/// and a <see cref="NetstackDropReason.NoUdpSocket"/> drop. Full queue: a
/// <see cref="NetstackDropReason.UdpReceiveQueueFull"/> drop.</para>
/// <para>Outbound: the payload sits in a pooled buffer with room in front for the IP and UDP headers
/// (<see cref="UdpPayloadHeadroom"/>), which are prepended in place; the checksum is always computed (a computed
/// zero is sent as 0xFFFF). Datagrams larger than the MTU are refused, never fragmented.</para>
/// </remarks>
internal sealed partial class NetstackCore
{
    private UdpSocketTable _udpSockets = null!;

    /// <summary>UDP counters (drops are in <see cref="Counters"/>).</summary>
    public UdpCounters UdpCounters { get; } = new();

    /// <summary>Bound UDP sockets.</summary>
    public int UdpSocketCount => _udpSockets.Count;

    /// <summary>The pool outbound packets come from. Thread-safe.</summary>
    internal PacketBufferPool Pool => _options.Pool;

    /// <summary>Offset at which a UDP payload must start in its buffer for the headers to be prepended in place.</summary>
    public static int UdpPayloadHeadroom(bool isIpv6) =>
        PacketBufferPool.DefaultHeadroom + (isIpv6 ? Ipv6Header.Length : Ipv4Header.Length) + UdpDatagram.HeaderLength;

    /// <summary>Largest UDP payload that fits the MTU over the given family. Reads immutable settings: thread-safe.</summary>
    public int MaxUdpPayload(bool isIpv6) =>
        _options.Mtu - (isIpv6 ? Ipv6Header.Length : Ipv4Header.Length) - UdpDatagram.HeaderLength;

    /// <summary>True when the node has an address of the family to send from. Reads immutable settings: thread-safe.</summary>
    public bool HasLocalAddress(bool isIpv6) => isIpv6 ? _addresses.TryGetIpv6Source(out _) : _addresses.TryGetIpv4Source(out _);

    /// <summary>
    /// Binds a UDP socket to <paramref name="localAddress"/> (null: every address of the node, both families) and
    /// <paramref name="port"/> (0: the next free ephemeral port).
    /// </summary>
    public UdpBindResult TryBindUdp(IPAddress? localAddress, int port, out UdpSocketState? socket)
    {
        socket = null;
        if (localAddress is null)
        {
            return _udpSockets.TryBind(isAnyAddress: true, UInt128.Zero, isIpv6: false, port, _options.Udp.ReceiveQueueCapacity, out socket);
        }

        if (localAddress.IsIPv4MappedToIPv6)
        {
            localAddress = localAddress.MapToIPv4();
        }

        bool isIpv6 = localAddress.AddressFamily == AddressFamily.InterNetworkV6;
        bool local = localAddress.AddressFamily switch
        {
            AddressFamily.InterNetwork => _addresses.IsLocal(Ipv4Header.ToValue(localAddress)),
            AddressFamily.InterNetworkV6 => _addresses.IsLocal(Ipv6Header.ToValue(localAddress)),
            _ => false,
        };
        if (!local)
        {
            return UdpBindResult.AddressNotAvailable;
        }

        UInt128 address = isIpv6 ? Ipv6Header.ToValue(localAddress) : Ipv4Header.ToValue(localAddress);
        return _udpSockets.TryBind(isAnyAddress: false, address, isIpv6, port, _options.Udp.ReceiveQueueCapacity, out socket);
    }

    /// <summary>
    /// Unbinds <paramref name="socket"/> and closes its receive queue with an <see cref="ObjectDisposedException"/>
    /// (queued datagrams are returned to their pool). Idempotent.
    /// </summary>
    public void CloseUdp(UdpSocketState socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _udpSockets.Remove(socket);
        socket.Close(new ObjectDisposedException(nameof(UdpSocketState), "The UDP socket was closed."));
    }

    /// <summary>Sends <paramref name="payload"/> (copied into a pooled buffer) from <paramref name="socket"/> to <paramref name="remote"/>.</summary>
    public UdpSendResult SendUdp(UdpSocketState socket, EndpointValue remote, ReadOnlySpan<byte> payload, long now)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (payload.Length > MaxUdpPayload(remote.IsIpv6))
        {
            return UdpSendResult.TooBig;
        }

        var buffer = _options.Pool.Rent(UdpPayloadHeadroom(remote.IsIpv6));
        payload.CopyTo(buffer.Append(payload.Length));
        return SendUdp(socket, remote, buffer, now);
    }

    /// <summary>
    /// Sends the payload in <paramref name="payload"/> (its <see cref="PacketBuffer.Span"/>) from
    /// <paramref name="socket"/> to <paramref name="remote"/>, prepending the headers in place when the buffer has
    /// <see cref="UdpPayloadHeadroom"/> (else the payload is moved). Takes ownership of the buffer whatever the outcome.
    /// </summary>
    public UdpSendResult SendUdp(UdpSocketState socket, EndpointValue remote, PacketBuffer payload, long now)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(payload);
        _lastNow = now;
        var result = TryBuildUdp(socket, remote, ref payload);
        if (result != UdpSendResult.Sent)
        {
            payload.Return();
            return result;
        }

        if (_outbound.Count >= _options.OutboundQueueCapacity)
        {
            Counters.CountDrop(NetstackDropReason.OutboundQueueFull);
            payload.Return();
            return UdpSendResult.OutboundQueueFull;
        }

        EnqueueOutbound(payload);
        UdpCounters.CountSent();
        return UdpSendResult.Sent;
    }

    private UdpSendResult TryBuildUdp(UdpSocketState socket, EndpointValue remote, ref PacketBuffer buffer)
    {
        if (socket.IsClosed)
        {
            return UdpSendResult.SocketClosed;
        }

        if (remote.Port == 0 || remote.IsUnspecified)
        {
            return UdpSendResult.InvalidDestination;
        }

        int payloadLength = buffer.Length;
        if (payloadLength > MaxUdpPayload(remote.IsIpv6))
        {
            return UdpSendResult.TooBig;
        }

        UInt128 source;
        if (!socket.IsAnyAddress)
        {
            if (socket.IsIpv6 != remote.IsIpv6)
            {
                return UdpSendResult.NoSourceAddress;
            }

            source = socket.LocalAddress;
        }
        else if (remote.IsIpv6)
        {
            if (!_addresses.TryGetIpv6Source(out source))
            {
                return UdpSendResult.NoSourceAddress;
            }
        }
        else
        {
            if (!_addresses.TryGetIpv4Source(out uint source4))
            {
                return UdpSendResult.NoSourceAddress;
            }

            source = source4;
        }

        int payloadOffset = UdpPayloadHeadroom(remote.IsIpv6);
        if ((buffer.Headroom < payloadOffset || buffer.Tailroom < WireGuardTailroom) && !TryMoveUdpPayload(ref buffer, payloadOffset))
        {
            return UdpSendResult.TooBig;
        }

        int udpLength = UdpDatagram.HeaderLength + payloadLength;
        buffer.Prepend(payloadOffset - PacketBufferPool.DefaultHeadroom);
        Span<byte> packet = buffer.Span;
        int ipLength;
        if (remote.IsIpv6)
        {
            new Ipv6Header(source, remote.Address, IpProtocol.Udp, Ipv6Header.DefaultHopLimit, udpLength).Emit(packet);
            ipLength = Ipv6Header.Length;
        }
        else
        {
            new Ipv4Header((uint)source, (uint)remote.Address, IpProtocol.Udp, Ipv4Header.DefaultTimeToLive, udpLength).Emit(packet);
            ipLength = Ipv4Header.Length;
        }

        Span<byte> datagram = packet.Slice(ipLength, udpLength);
        UdpDatagram.WriteHeader(datagram, socket.LocalPort, remote.Port, payloadLength);
        ulong pseudoHeader = remote.IsIpv6
            ? InternetChecksum.PseudoHeaderIpv6(
                packet.Slice(Ipv6Packet.SourceOffset, Ipv6Packet.AddressLength),
                packet.Slice(Ipv6Packet.DestinationOffset, Ipv6Packet.AddressLength),
                IpProtocol.Udp,
                udpLength)
            : InternetChecksum.PseudoHeaderIpv4(
                packet.Slice(Ipv4Packet.SourceOffset, Ipv4Packet.AddressLength),
                packet.Slice(Ipv4Packet.DestinationOffset, Ipv4Packet.AddressLength),
                IpProtocol.Udp,
                udpLength);
        UdpDatagram.FillChecksum(datagram, pseudoHeader);
        return UdpSendResult.Sent;
    }

    /// <summary>Moves a payload that lacks head- or tailroom to <paramref name="payloadOffset"/> of its own array, or
    /// of a fresh pool buffer when the array is too small; false when no pool buffer is big enough.</summary>
    private bool TryMoveUdpPayload(ref PacketBuffer buffer, int payloadOffset)
    {
        int length = buffer.Length;
        byte[] array = buffer.Array;
        if (array.Length >= payloadOffset + length + WireGuardTailroom)
        {
            // Array.Copy is memmove-safe for overlapping ranges of one array.
            Array.Copy(array, buffer.Offset, array, payloadOffset, length);
            buffer.SetRange(payloadOffset, length);
            return true;
        }

        if (_options.Pool.BufferSize < payloadOffset + length + WireGuardTailroom)
        {
            return false;
        }

        var replacement = _options.Pool.Rent(payloadOffset);
        buffer.Span.CopyTo(replacement.Append(length));
        buffer.Return();
        buffer = replacement;
        return true;
    }

    private bool ProcessUdpIpv4(PacketBuffer packet, Ipv4Packet ip, long now)
    {
        ReadOnlySpan<byte> payload = ip.Payload;
        if (!UdpDatagram.TryCreate(payload, out var udp))
        {
            return Drop(payload.Length < UdpDatagram.HeaderLength ? NetstackDropReason.Truncated : NetstackDropReason.Malformed);
        }

        if (!udp.IsChecksumValidIpv4(ip.Source, ip.Destination))
        {
            return Drop(NetstackDropReason.BadChecksum);
        }

        if (udp.DestinationPort == 0)
        {
            return Drop(NetstackDropReason.Malformed);
        }

        var socket = _udpSockets.Find(ip.DestinationValue, isIpv6: false, udp.DestinationPort);
        if (socket is null)
        {
            TrySendPortUnreachable(ip.Bytes, now);
            return Drop(NetstackDropReason.NoUdpSocket);
        }

        int payloadStart = packet.Offset + ip.HeaderLength + UdpDatagram.HeaderLength;
        return Deliver(socket, packet, payloadStart, udp.Payload.Length, new EndpointValue(ip.SourceValue, IsIpv6: false, udp.SourcePort));
    }

    private bool ProcessUdpIpv6(PacketBuffer packet, Ipv6Packet ip, int offset, long now)
    {
        ReadOnlySpan<byte> payload = ip.Bytes[offset..];
        if (!UdpDatagram.TryCreate(payload, out var udp))
        {
            return Drop(payload.Length < UdpDatagram.HeaderLength ? NetstackDropReason.Truncated : NetstackDropReason.Malformed);
        }

        if (!udp.IsChecksumValidIpv6(ip.Source, ip.Destination))
        {
            return Drop(NetstackDropReason.BadChecksum);
        }

        if (udp.DestinationPort == 0)
        {
            return Drop(NetstackDropReason.Malformed);
        }

        var socket = _udpSockets.Find(ip.DestinationValue, isIpv6: true, udp.DestinationPort);
        if (socket is null)
        {
            TrySendPortUnreachable(ip.Bytes, now);
            return Drop(NetstackDropReason.NoUdpSocket);
        }

        int payloadStart = packet.Offset + offset + UdpDatagram.HeaderLength;
        return Deliver(socket, packet, payloadStart, udp.Payload.Length, new EndpointValue(ip.SourceValue, IsIpv6: true, udp.SourcePort));
    }

    /// <returns>True when the buffer went into the socket's queue.</returns>
    private bool Deliver(UdpSocketState socket, PacketBuffer packet, int payloadStart, int payloadLength, EndpointValue remote)
    {
        packet.SetRange(payloadStart, payloadLength);
        if (socket.TryEnqueue(new UdpReceivedDatagram(packet, remote)))
        {
            UdpCounters.CountReceived();
            return true;
        }

        if (socket.IsClosed)
        {
            return Drop(NetstackDropReason.NoUdpSocket);
        }

        socket.CountDropped();
        return Drop(NetstackDropReason.UdpReceiveQueueFull);
    }

    /// <summary>Closes every socket (the netstack is stopping): pending receives fail with <see cref="ObjectDisposedException"/>.</summary>
    private void ClearUdp() => CloseAllUdp(new ObjectDisposedException(nameof(NetstackCore), "The netstack stopped."));

    /// <summary>Unbinds every socket and completes its receive queue with <paramref name="reason"/>.</summary>
    internal void CloseAllUdp(Exception reason) => _udpSockets.Clear(socket => socket.Close(reason));

    private void InitializeUdp(NetstackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.Udp);
        options.Udp.Validate();
        _udpSockets = new UdpSocketTable(options.Udp.EphemeralFirstPort, options.Udp.EphemeralLastPort);
        InitializeIcmpErrors(options);
    }
}
