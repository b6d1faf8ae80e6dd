using System.Net;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

// TCP in the core: demultiplexing segments to connections, listeners with a bounded backlog, the unmatched-flow
// hook consulted before a RST, RST for everything else, timers of all connections in one lazy priority queue, and
// turning each connection's pending segments into IP packets. The loop sees which sockets changed through
// TakeTouchedTcp and moves bytes between them and the app.
internal sealed partial class NetstackCore
{
    // Ephemeral ports for outbound connections (IANA dynamic range, as Linux's default upper half).
    private const int EphemeralFirst = 49152;
    private const int EphemeralLast = 65535;

    private readonly Dictionary<TcpEndpoints, TcpSocket> _tcp = new();
    private readonly Dictionary<ushort, TcpListenerEntry> _tcpListeners = new();
    private readonly PriorityQueue<TcpSocket, long> _tcpTimers = new();
    private readonly List<TcpSocket> _tcpTouched = new();
    private readonly List<TcpSocket> _tcpFlushBlocked = new();
    private readonly InitialSequenceNumber _isn = InitialSequenceNumber.CreateRandom();
    private readonly Dictionary<ushort, int> _tcpLocalPortUse = new();
    private int _nextEphemeral = Random.Shared.Next(EphemeralFirst, EphemeralLast + 1);
    private TcpConfig? _tcpConfig;

    /// <summary>Consulted for SYNs that match no listener; null rejects them (RST).</summary>
    public UnmatchedTcpFlowHandler? UnmatchedTcpFlow { get; set; }

    /// <summary>Whether the outbound queue is full (the loop then waits for the dataplane to take packets).</summary>
    public bool OutboundFull => _outbound.Count >= _options.OutboundQueueCapacity;

    /// <summary>Connections in the table (any state).</summary>
    public int TcpConnectionCount => _tcp.Count;

    private TcpConfig TcpConfig => _tcpConfig ??= _options.TcpTuning with { Mtu = _options.Mtu };

    /// <summary>TCP settings for a new connection: the MSS follows a path MTU learned from ICMP, if any.</summary>
    private TcpConfig TcpConfigFor(TcpAddress remote, long now)
    {
        if (_pathMtus.Count == 0)
        {
            return TcpConfig;
        }

        var pathMtu = PathMtu(remote.ToIPAddress(), now);
        return pathMtu < TcpConfig.Mtu ? TcpConfig with { Mtu = pathMtu } : TcpConfig;
    }

    /// <summary>Core time in TCP's unit (100 ns ticks) from the owner's timestamp.</summary>
    private long TcpNow(long now)
    {
        var frequency = _options.TimestampFrequency;
        return (now / frequency * TimeSpan.TicksPerSecond) + (now % frequency * TimeSpan.TicksPerSecond / frequency);
    }

    private long FromTcpTime(long ticks)
    {
        if (ticks == long.MaxValue)
        {
            return long.MaxValue;
        }

        var frequency = _options.TimestampFrequency;
        return (ticks / TimeSpan.TicksPerSecond * frequency) + (ticks % TimeSpan.TicksPerSecond * frequency / TimeSpan.TicksPerSecond);
    }

    /// <summary>Starts listening on <paramref name="port"/> (all of the node's addresses).</summary>
    /// <exception cref="InvalidOperationException">The port already has a listener.</exception>
    public TcpListenerEntry ListenTcp(ushort port)
    {
        if (port == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(port), "Listen on a specific port (1-65535).");
        }

        if (_tcpListeners.ContainsKey(port))
        {
            throw new InvalidOperationException($"TCP port {port} already has a listener.");
        }

        var entry = new TcpListenerEntry(port, null, _options.TcpListenBacklog);
        _tcpListeners.Add(port, entry);
        UsePort(port, +1);
        return entry;
    }

    /// <summary>Stops a listener: its handshaking connections are reset; queued ones are handed back for the loop to reset.</summary>
    public void CloseTcpListener(TcpListenerEntry listener, long now)
    {
        if (listener.Closed || !_tcpListeners.Remove(listener.Port))
        {
            return;
        }

        listener.Closed = true;
        UsePort(listener.Port, -1);
        foreach (var socket in _tcp.Values)
        {
            if (ReferenceEquals(socket.Listener, listener) && socket.Channel is null)
            {
                socket.Connection.Abort();
                Touch(socket);
            }
        }
    }

    /// <summary>Opens a connection to <paramref name="remote"/>; the SYN leaves with the next flush.</summary>
    /// <exception cref="InvalidOperationException">No local address of that family, no free port, or too many connections.</exception>
    public TcpSocket ConnectTcp(IPEndPoint remote, long now)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (_tcp.Count >= _options.MaxTcpConnections)
        {
            throw new InvalidOperationException($"At most {_options.MaxTcpConnections} TCP connections.");
        }

        var remoteAddress = TcpAddress.FromIPAddress(remote.Address);
        TcpAddress localAddress;
        if (remoteAddress.IsIpv4)
        {
            localAddress = _addresses.TryGetIpv4Source(out var v4)
                ? TcpAddress.FromIPAddress(Ipv4Header.ToAddress(v4))
                : throw new InvalidOperationException("The node has no IPv4 address.");
        }
        else
        {
            localAddress = _addresses.TryGetIpv6Source(out var v6)
                ? TcpAddress.FromIPAddress(Ipv6Header.ToAddress(v6))
                : throw new InvalidOperationException("The node has no IPv6 address.");
        }

        var endpoints = new TcpEndpoints(localAddress, AllocateEphemeralPort(localAddress, remoteAddress, (ushort)remote.Port), remoteAddress, (ushort)remote.Port);
        var tcpNow = TcpNow(now);
        var connection = TcpConnection.Connect(endpoints, TcpConfigFor(remoteAddress, now), _isn.Generate(endpoints, tcpNow), tcpNow, _isn.TimestampOffset(endpoints));
        var socket = new TcpSocket(connection, null);
        Add(endpoints, socket);
        return socket;
    }

    /// <summary>Sockets whose state changed since the last call (events, output or timers); the loop services them.</summary>
    public void TakeTouchedTcp(List<TcpSocket> into)
    {
        // Sockets whose output stopped at a full outbound queue get another turn first.
        foreach (var blocked in _tcpFlushBlocked)
        {
            Touch(blocked);
        }

        _tcpFlushBlocked.Clear();
        into.AddRange(_tcpTouched);
        foreach (var socket in _tcpTouched)
        {
            socket.Touched = false;
        }

        _tcpTouched.Clear();
    }

    /// <summary>Marks a socket for servicing (after an app-side change such as a write or a read).</summary>
    public void Touch(TcpSocket socket)
    {
        if (!socket.Touched && !socket.Removed)
        {
            socket.Touched = true;
            _tcpTouched.Add(socket);
        }
    }

    /// <summary>Sends what the connection has to send, re-arms its timer, and forgets it once CLOSED.</summary>
    public void FlushTcp(TcpSocket socket, long now)
    {
        if (socket.Removed)
        {
            return;
        }

        var connection = socket.Connection;
        var tcpNow = TcpNow(now);
        var endpoints = connection.Endpoints;
        var ipHeaderLength = endpoints.IsIpv6 ? Ipv6Header.Length : Ipv4Header.Length;
        // Bounded: a connection emits at most what its windows allow; the outbound queue bound also stops us,
        // and the connection keeps the rest (TCP output is pulled, so nothing is lost) for the next turn.
        for (var i = 0; i < 4096; i++)
        {
            if (_outbound.Count >= _options.OutboundQueueCapacity)
            {
                _tcpFlushBlocked.Add(socket);
                break;
            }

            var packet = _options.Pool.Rent(PacketBufferPool.DefaultHeadroom);
            var room = Math.Min(_options.Mtu, packet.Tailroom - WireGuardTailroom);
            var span = packet.Array.AsSpan(packet.Offset, room);
            if (!connection.TryGetSegment(span[ipHeaderLength..], out var length, tcpNow))
            {
                packet.Return();
                break;
            }

            var segment = span.Slice(ipHeaderLength, length);
            endpoints.FillChecksum(segment);
            WriteIpHeader(endpoints, span, length);
            packet.SetLength(ipHeaderLength + length);
            EnqueueOutbound(packet);
        }

        if (connection.State == TcpState.Closed)
        {
            Remove(socket);
            return;
        }

        ScheduleTcp(socket, connection.NextDeadline);
    }

    /// <summary>The earliest TCP timer, in the owner's time unit.</summary>
    private long NextTcpDeadline
    {
        get
        {
            while (_tcpTimers.TryPeek(out var socket, out var deadline))
            {
                if (!socket.Removed && deadline == socket.ScheduledAt)
                {
                    return FromTcpTime(deadline);
                }

                _tcpTimers.Dequeue();
            }

            return long.MaxValue;
        }
    }

    private void PollTcp(long now)
    {
        var tcpNow = TcpNow(now);
        var budget = _tcpTimers.Count;
        while (budget-- > 0 && _tcpTimers.TryPeek(out var socket, out var deadline) && deadline <= tcpNow)
        {
            _tcpTimers.Dequeue();
            if (socket.Removed || deadline != socket.ScheduledAt)
            {
                continue;
            }

            socket.ScheduledAt = long.MaxValue;
            socket.Connection.Poll(tcpNow);
            Touch(socket);
        }
    }

    private void ScheduleTcp(TcpSocket socket, long deadline)
    {
        if (deadline < socket.ScheduledAt)
        {
            socket.ScheduledAt = deadline;
            _tcpTimers.Enqueue(socket, deadline);
        }
        else if (deadline == long.MaxValue)
        {
            socket.ScheduledAt = long.MaxValue;
        }
    }

    /// <returns>False: the caller returns <paramref name="packet"/> (TCP never keeps the inbound buffer).</returns>
    private bool ProcessTcp(PacketBuffer packet, TcpAddress source, TcpAddress destination, int segmentOffset, bool isLocal, long now)
    {
        ReadOnlySpan<byte> segment = packet.Span[segmentOffset..];
        if (!TcpSegment.TryCreate(segment, out var view))
        {
            return Drop(NetstackDropReason.Truncated);
        }

        var endpoints = new TcpEndpoints(destination, view.DestinationPort, source, view.SourcePort);
        if (!endpoints.IsInboundChecksumValid(segment))
        {
            return Drop(NetstackDropReason.BadChecksum);
        }

        if (!TcpHeader.TryParse(segment, out var header, out var payload))
        {
            return Drop(NetstackDropReason.Malformed);
        }

        var tcpNow = TcpNow(now);
        if (_tcp.TryGetValue(endpoints, out var socket))
        {
            if (socket.Connection.CanReopenWith(header))
            {
                Remove(socket);
            }
            else
            {
                socket.Connection.OnSegment(header, payload, tcpNow);
                Touch(socket);
                return false;
            }
        }

        var isSyn = header.Has(TcpFlags.Syn) && !header.Has(TcpFlags.Ack) && !header.Has(TcpFlags.Rst);
        if (isSyn && TryAcceptSyn(endpoints, header, isLocal, tcpNow))
        {
            return false;
        }

        if (isLocal || UnmatchedTcpFlow is not null)
        {
            SendReset(endpoints, header, payload.Length);
        }

        return Drop(NetstackDropReason.NoTcpListener);
    }

    private bool TryAcceptSyn(in TcpEndpoints endpoints, in TcpHeader syn, bool isLocal, long tcpNow)
    {
        if (_tcp.Count >= _options.MaxTcpConnections)
        {
            Counters.CountDrop(NetstackDropReason.TcpConnectionLimit);
            return true; // silently dropped: the peer retries its SYN
        }

        TcpListenerEntry? listener = null;
        UnmatchedTcpFlowClaim? handler = null;
        if (isLocal && _tcpListeners.TryGetValue(endpoints.LocalPort, out var entry))
        {
            if (entry.Handshaking + entry.Queued >= entry.Backlog)
            {
                // Backlog full: drop like Linux does, so the peer's SYN retransmission gets another chance.
                Counters.CountDrop(NetstackDropReason.TcpBacklogFull);
                return true;
            }

            listener = entry;
        }
        else if (UnmatchedTcpFlow is { } hook)
        {
            handler = hook(
                new IPEndPoint(endpoints.RemoteAddress.ToIPAddress(), endpoints.RemotePort),
                new IPEndPoint(endpoints.LocalAddress.ToIPAddress(), endpoints.LocalPort));
            if (handler is null)
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        var connection = TcpConnection.Accept(endpoints, TcpConfigFor(endpoints.RemoteAddress, _lastNow), _isn.Generate(endpoints, tcpNow), syn, tcpNow, _isn.TimestampOffset(endpoints));
        var socket = new TcpSocket(connection, listener) { FlowHandler = handler };
        if (listener is not null)
        {
            listener.Handshaking++;
        }

        Add(endpoints, socket);
        return true;
    }

    private void SendReset(in TcpEndpoints endpoints, in TcpHeader incoming, int payloadLength)
    {
        if (!TcpResets.TryCreateReply(incoming, payloadLength, out var reply))
        {
            return;
        }

        var ipHeaderLength = endpoints.IsIpv6 ? Ipv6Header.Length : Ipv4Header.Length;
        var packet = _options.Pool.Rent(PacketBufferPool.DefaultHeadroom);
        var span = packet.Array.AsSpan(packet.Offset, ipHeaderLength + TcpHeader.MaxLength);
        var length = reply.Emit(span[ipHeaderLength..]);
        endpoints.FillChecksum(span.Slice(ipHeaderLength, length));
        WriteIpHeader(endpoints, span, length);
        packet.SetLength(ipHeaderLength + length);
        Counters.CountTcpResetSent();
        EnqueueOutbound(packet);
    }

    private static void WriteIpHeader(in TcpEndpoints endpoints, Span<byte> packet, int tcpLength)
    {
        Span<byte> address = stackalloc byte[16];
        if (endpoints.IsIpv6)
        {
            endpoints.LocalAddress.WriteTo(address);
            var source = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(address);
            endpoints.RemoteAddress.WriteTo(address);
            var destination = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(address);
            new Ipv6Header(source, destination, IpProtocol.Tcp, Ipv6Header.DefaultHopLimit, tcpLength).Emit(packet);
        }
        else
        {
            endpoints.LocalAddress.WriteTo(address);
            var source = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address);
            endpoints.RemoteAddress.WriteTo(address);
            var destination = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address);
            new Ipv4Header(source, destination, IpProtocol.Tcp, Ipv4Header.DefaultTimeToLive, tcpLength).Emit(packet);
        }
    }

    private void Add(in TcpEndpoints endpoints, TcpSocket socket)
    {
        _tcp.Add(endpoints, socket);
        UsePort(endpoints.LocalPort, +1);
        Touch(socket);
    }

    private void Remove(TcpSocket socket)
    {
        if (socket.Removed)
        {
            return;
        }

        socket.Removed = true;
        var endpoints = socket.Connection.Endpoints;
        _tcp.Remove(endpoints);
        UsePort(endpoints.LocalPort, -1);
        if (socket.Listener is { } listener && socket.Channel is null)
        {
            listener.Handshaking--;
            socket.Listener = null;
        }

        if (socket.FlowHandler is { } claim && socket.Channel is null)
        {
            // A claimed flow that never got established: its claimant must not count it as in flight any more.
            socket.FlowHandler = null;
            try
            {
                claim.Abandoned();
            }
            catch (Exception)
            {
                // The claimant's bookkeeping failing must not break the netstack.
            }
        }

        // The loop still sees the socket once more (touched) to complete the app side.
        if (!socket.Touched)
        {
            socket.Touched = true;
            _tcpTouched.Add(socket);
        }
    }

    private void UsePort(ushort port, int delta)
    {
        var count = _tcpLocalPortUse.GetValueOrDefault(port) + delta;
        if (count <= 0)
        {
            _tcpLocalPortUse.Remove(port);
        }
        else
        {
            _tcpLocalPortUse[port] = count;
        }
    }

    private ushort AllocateEphemeralPort(TcpAddress local, TcpAddress remote, ushort remotePort)
    {
        // Next free port from a random start; a port in use toward another remote would be legal, but keeping
        // local ports distinct keeps demultiplexing and debugging simple while the range suffices.
        const int range = EphemeralLast - EphemeralFirst + 1;
        for (var i = 0; i < range; i++)
        {
            var candidate = (ushort)_nextEphemeral;
            _nextEphemeral = _nextEphemeral == EphemeralLast ? EphemeralFirst : _nextEphemeral + 1;
            if (!_tcpLocalPortUse.ContainsKey(candidate) && !_tcp.ContainsKey(new TcpEndpoints(local, candidate, remote, remotePort)))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free ephemeral TCP port.");
    }

    /// <summary>Lowers the segment size of live connections to <paramref name="remote"/> after a path-MTU ICMP.</summary>
    private void ApplyPathMtuToTcp(TcpAddress remote, long now)
    {
        if (_tcp.Count == 0)
        {
            return;
        }

        var pathMtu = PathMtu(remote.ToIPAddress(), now);
        foreach (var socket in _tcp.Values)
        {
            if (socket.Connection.Endpoints.RemoteAddress == remote)
            {
                socket.Connection.OnPathMtu(pathMtu);
                Touch(socket);
            }
        }
    }

    /// <summary>Visits every connection (for shutdown).</summary>
    public void ForEachTcpSocket(Action<TcpSocket> action)
    {
        foreach (var socket in _tcp.Values)
        {
            action(socket);
        }
    }

    /// <summary>Visits every listener (for shutdown).</summary>
    public void ForEachTcpListener(Action<TcpListenerEntry> action)
    {
        foreach (var listener in _tcpListeners.Values)
        {
            action(listener);
        }
    }

    /// <summary>Returns every TCP resource (connections are dropped without RST: the node is going away).</summary>
    private void ClearTcp()
    {
        foreach (var socket in _tcp.Values)
        {
            socket.Removed = true;
        }

        _tcp.Clear();
        _tcpListeners.Clear();
        _tcpTimers.Clear();
        _tcpTouched.Clear();
        _tcpFlushBlocked.Clear();
        _tcpLocalPortUse.Clear();
    }
}
