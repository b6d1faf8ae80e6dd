using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet;

/// <summary>
/// A Tailscale-compatible UDP peer-relay server (tailscale's <c>net/udprelay</c>): two clients that cannot reach each
/// other directly each bind to a relay endpoint (Geneve VNI) with a three-way disco handshake, after which the server
/// forwards their datagrams verbatim between the two bound addresses. Usable standalone or tied to a node
/// (<see cref="TailnetServer.StartUdpRelayServerAsync"/>). Start it with <see cref="StartAsync"/>; allocate endpoints
/// in process with <see cref="AllocateEndpoint"/>; dispose it to close its sockets and timer.
/// </summary>
/// <remarks>
/// Per datagram: STUN and malformed packets are dropped; the VNI selects the endpoint (lock-free lookup); control
/// packets (Geneve O bit) carry Bind/Answer disco messages sealed to the server — every well-formed Bind gets a
/// Challenge (a keyed BLAKE2s MAC over VNI, generation, remote key and source address, with secrets rotated every
/// 2 min), and an Answer echoing a valid challenge from the same source binds that client's address; data packets are
/// forwarded only between the two bound addresses. Everything else is dropped silently and counted
/// (<see cref="GetCounters"/>). Endpoints not bound within <see cref="UdpRelayServerOptions.BindLifetime"/> or idle on
/// either side for <see cref="UdpRelayServerOptions.SteadyStateLifetime"/> expire; a collection every bind lifetime
/// frees their VNIs.
/// </remarks>
public sealed partial class UdpRelayServer : IAsyncDisposable
{
    // Bursts of relayed traffic for many endpoints share one socket per address: give the kernel room.
    private const int SocketBufferBytes = 4 * 1024 * 1024;

    // The largest UDP payload; the relay forwards whatever fits.
    private const int ReceiveBufferBytes = 65536;

    // With port 0 a later bind may collide with the port the kernel chose for the first: retry a few times.
    private const int EphemeralBindAttempts = 8;

    private readonly RelayServerCore _core;
    private readonly Socket[] _sockets;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly IReadOnlyList<IPEndPoint> _localAdvertised;
    private readonly IReadOnlyList<IPEndPoint> _staticAdvertised;
    private readonly Lock _gate = new();
    private IReadOnlyList<IPEndPoint> _advertised;
    private ITimer? _collectionTimer;
    private Task[] _receivers = [];
    private Task? _disposeTask;
    private long _sendFailures;

    private UdpRelayServer(RelayServerCore core, Socket[] sockets, UdpRelayServerOptions options, TimeProvider time, ILogger logger)
    {
        _core = core;
        _sockets = sockets;
        _time = time;
        _logger = logger;
        Port = ((IPEndPoint)sockets[0].LocalEndPoint!).Port;
        LocalEndPoints = sockets.Select(s => (IPEndPoint)s.LocalEndPoint!).ToArray();
        _staticAdvertised = options.AdvertisedEndpoints.Select(e => new IPEndPoint(e.Address, e.Port)).ToArray();
        _localAdvertised = options.AdvertiseLocalAddresses ? LocalAddresses(LocalEndPoints) : [];
        _advertised = Unique(_staticAdvertised, _localAdvertised);
        BindLifetime = options.BindLifetime;
        SteadyStateLifetime = options.SteadyStateLifetime;
    }

    /// <summary>Raised once when the server is disposed (the owning node forgets it).</summary>
    internal event Action<UdpRelayServer>? Disposed;

    /// <summary>The bound UDP port (all sockets share it).</summary>
    public int Port { get; }

    /// <summary>The server's disco public key (clients seal Bind and Answer to it); print it with <c>ToString()</c>.</summary>
    public DiscoKey DiscoPublicKey => _core.PublicKey;

    /// <summary>The addresses the sockets are bound to.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndPoints { get; }

    /// <summary>The candidate addresses handed out with each allocation (see <see cref="UdpRelayServerOptions.AdvertisedEndpoints"/>).</summary>
    public IReadOnlyList<IPEndPoint> AdvertisedEndpoints => Volatile.Read(ref _advertised);

    /// <summary>How long a new endpoint waits for both clients to bind.</summary>
    public TimeSpan BindLifetime { get; }

    /// <summary>How long a bound endpoint lives without traffic from one of its clients.</summary>
    public TimeSpan SteadyStateLifetime { get; }

    /// <summary>Endpoints allocated and not yet collected.</summary>
    public int EndpointCount => _core.EndpointCount;

    internal RelayServerCore Core => _core;

    internal IReadOnlyList<Task> Receivers => _receivers;

    /// <summary>
    /// Binds the sockets and starts serving. Completes once the sockets are bound (binding is synchronous; the
    /// method is async for symmetry with the node's services).
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid (the message says which setting).</exception>
    /// <exception cref="SocketException">A bind address could not be bound (e.g. the port is in use).</exception>
    public static ValueTask<UdpRelayServer> StartAsync(UdpRelayServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        Validate(options);
        var time = options.TimeProvider ?? TimeProvider.System;
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TsNet.UdpRelayServer");
        var privateKey = options.DiscoPrivateKey ?? DiscoKey.Generate();
        var core = new RelayServerCore(privateKey.Bytes, new RelayServerSettings
        {
            BindLifetime = options.BindLifetime,
            SteadyStateLifetime = options.SteadyStateLifetime,
            TimestampFrequency = time.TimestampFrequency,
        });

        var sockets = BindSockets(options, logger);
        var server = new UdpRelayServer(core, sockets, options, time, logger);
        server.Start();
        return ValueTask.FromResult(server);
    }

    /// <summary>
    /// Replaces the candidate addresses handed out with later allocations (the options' static ones stay first; the
    /// given ones replace the locally discovered part). Endpoints already allocated are unaffected.
    /// </summary>
    public void SetAdvertisedEndpoints(IEnumerable<IPEndPoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var list = endpoints.Select(e => new IPEndPoint(e.Address, e.Port)).ToArray();
        Volatile.Write(ref _advertised, Unique(_staticAdvertised, list));
    }

    /// <summary>
    /// Returns the relay endpoint for clients <paramref name="a"/> and <paramref name="b"/> (disco public keys, in
    /// either order), allocating one if the pair has none: the pair is stored sorted, a pair's existing live endpoint
    /// comes back unchanged (same VNI and Lamport id, bound or not), a new one gets the next free VNI and a larger
    /// Lamport id. Thread-safe; racing calls for one pair get one endpoint.
    /// </summary>
    /// <exception cref="ArgumentException">A key is empty, the keys are equal, a key equals the server's own disco key, or a key is not a usable Curve25519 point.</exception>
    /// <exception cref="UdpRelayServerNotReadyException">The server has no candidate address to offer yet.</exception>
    /// <exception cref="InvalidOperationException">Every VNI (2^24−1) is in use.</exception>
    /// <exception cref="ObjectDisposedException">The server was disposed.</exception>
    public RelayEndpoint AllocateEndpoint(DiscoKey a, DiscoKey b)
    {
        ThrowIfDisposed();
        if (a.IsEmpty || b.IsEmpty)
        {
            throw new ArgumentException("Client disco keys must not be empty.");
        }

        var addresses = AdvertisedEndpoints;
        if (addresses.Count == 0)
        {
            throw new UdpRelayServerNotReadyException();
        }

        var status = _core.Allocate(a, b, _time.GetTimestamp(), out var endpoint);
        switch (status)
        {
            case RelayAllocationStatus.Allocated:
            case RelayAllocationStatus.Existing:
                if (status == RelayAllocationStatus.Allocated)
                {
                    LogAllocated(_logger, endpoint!.Vni, endpoint.LamportId, endpoint.Client0.ToString(), endpoint.Client1.ToString());
                }

                return new RelayEndpoint(_core.PublicKey, endpoint!.Client0, endpoint.Client1, endpoint.LamportId, endpoint.Vni, addresses, BindLifetime, SteadyStateLifetime);
            case RelayAllocationStatus.ServerKey:
                throw new ArgumentException("A client disco key equals the relay server's own disco key.");
            case RelayAllocationStatus.InvalidKey:
                throw new ArgumentException("The client disco keys must be two different, valid Curve25519 public keys.");
            case RelayAllocationStatus.VniExhausted:
                throw new InvalidOperationException("The relay server's VNI pool is exhausted (every VNI is in use).");
            default:
                throw new ObjectDisposedException(nameof(UdpRelayServer));
        }
    }

    /// <summary>A snapshot of the forwarding, handshake and drop counters.</summary>
    public UdpRelayServerCounters GetCounters()
    {
        var drops = new Dictionary<UdpRelayDropReason, long>();
        foreach (var reason in Enum.GetValues<UdpRelayDropReason>())
        {
            drops[reason] = _core.Drops(reason);
        }

        return new UdpRelayServerCounters(
            _core.ForwardedPackets, _core.ForwardedBytes, _core.ChallengesSent, _core.LegsBound,
            Interlocked.Read(ref _sendFailures), _core.EndpointCount, drops);
    }

    /// <summary>Closes the sockets, stops the collection timer and forgets every endpoint. Idempotent.</summary>
    public ValueTask DisposeAsync()
    {
        TaskCompletionSource? first = null;
        Task disposal;
        lock (_gate)
        {
            if (_disposeTask is null)
            {
                first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _disposeTask = first.Task;
            }

            disposal = _disposeTask;
        }

        if (first is not null)
        {
            // Run outside the lock: the Disposed handler takes the owning node's lock.
            _ = CompleteDisposalAsync(first);
        }

        return new ValueTask(disposal);
    }

    private async Task CompleteDisposalAsync(TaskCompletionSource completion)
    {
        try
        {
            await DisposeCoreAsync().ConfigureAwait(false);
            completion.SetResult();
        }
        catch (Exception ex)
        {
            completion.SetException(ex);
        }
    }

    private async Task DisposeCoreAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        ITimer? timer;
        lock (_gate)
        {
            timer = _collectionTimer;
            _collectionTimer = null;
        }

        if (timer is not null)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        await Task.WhenAll(_receivers).ConfigureAwait(false);
        _core.Close();
        _stopping.Dispose();
        LogStopped(_logger, Port);
        Disposed?.Invoke(this);
    }

    private void Start()
    {
        lock (_gate)
        {
            _receivers = _sockets.Select(socket => Task.Run(() => ReceiveLoopAsync(socket, _stopping.Token))).ToArray();
            // Tailscale collects every bind lifetime: an endpoint is freed at most one period after it expires.
            _collectionTimer = _time.CreateTimer(static state => ((UdpRelayServer)state!).Collect(), this, BindLifetime, BindLifetime);
        }

        LogStarted(_logger, Port, DiscoPublicKey.ToString(), string.Join(",", LocalEndPoints));
    }

    /// <summary>One collection pass now (the timer runs one every bind lifetime); returns how many endpoints were freed.</summary>
    internal int Collect()
    {
        var freed = _core.CollectGarbage(_time.GetTimestamp());
        if (freed > 0)
        {
            LogCollected(_logger, freed, _core.EndpointCount);
        }

        return freed;
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferBytes);
        var reply = new byte[RelayServerCore.MaxReplyLength];
        var source = new SocketAddress(socket.AddressFamily);
        var sendV4 = new SocketAddress(AddressFamily.InterNetwork);
        var sendV6 = new SocketAddress(AddressFamily.InterNetworkV6);
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, source, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                return;
            }
            catch (SocketException ex)
            {
                // A truncated oversize datagram or an ICMP-reported error concerns one datagram: keep serving.
                LogReceiveFailed(_logger, ex.SocketErrorCode);
                continue;
            }

            if (!UnderlayAddress.TryFromSocketAddress(source, out var from))
            {
                continue;
            }

            var outcome = _core.HandlePacket(buffer.AsSpan(0, received), from, _time.GetTimestamp(), reply, out var replyLength, out var destination);
            if (outcome == RelayPacketOutcome.Reply)
            {
                Send(destination, reply.AsSpan(0, replyLength), sendV4, sendV6);
            }
            else if (outcome == RelayPacketOutcome.Forward)
            {
                Send(destination, buffer.AsSpan(0, received), sendV4, sendV6);
            }
        }
    }

    // Replies and forwards leave on a socket of the destination's family (v4 <-> v6 relaying is allowed).
    // Per relayed datagram: allocation-free (the socket addresses are the receive loop's own).
    internal void Send(UnderlayAddress destination, ReadOnlySpan<byte> datagram, SocketAddress sendV4, SocketAddress sendV6)
    {
        var socket = SocketFor(destination.IsIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
        if (socket is null)
        {
            Interlocked.Increment(ref _sendFailures);
            return;
        }

        var address = destination.IsIPv6 ? sendV6 : sendV4;
        destination.WriteTo(address);
        try
        {
            // A refused send (a full buffer, a datagram too large) is an error code here, not an exception per datagram.
            if (UdpSend.SendTo(socket, datagram, address) != SocketError.Success)
            {
                Interlocked.Increment(ref _sendFailures);
            }
        }
        catch (ObjectDisposedException)
        {
            Interlocked.Increment(ref _sendFailures);
        }
    }

    /// <summary>The bound socket of <paramref name="family"/>, or null; a plain loop, so no closure per datagram.</summary>
    private Socket? SocketFor(AddressFamily family)
    {
        foreach (var socket in _sockets)
        {
            if (socket.AddressFamily == family)
            {
                return socket;
            }
        }

        return null;
    }

    private void ThrowIfDisposed()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
        }
    }

    private static void Validate(UdpRelayServerOptions options)
    {
        if (options.Port is < 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException($"Port {options.Port} is not a port (0-65535).", nameof(options));
        }

        if (options.BindLifetime <= TimeSpan.Zero || options.SteadyStateLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException("BindLifetime and SteadyStateLifetime must be positive.", nameof(options));
        }

        if (options.DiscoPrivateKey is { IsEmpty: true })
        {
            throw new ArgumentException("DiscoPrivateKey must not be all zero.", nameof(options));
        }

        foreach (var address in options.BindAddresses)
        {
            if (address is null || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException("BindAddresses must be IPv4 or IPv6 addresses.", nameof(options));
            }
        }

        foreach (var endPoint in options.AdvertisedEndpoints)
        {
            if (endPoint is null || endPoint.Port == 0)
            {
                throw new ArgumentException("AdvertisedEndpoints must be addresses with a non-zero port.", nameof(options));
            }
        }
    }

    private static Socket[] BindSockets(UdpRelayServerOptions options, ILogger logger)
    {
        bool defaults = options.BindAddresses.Count == 0;
        var addresses = defaults
            ? (Socket.OSSupportsIPv6 ? [IPAddress.Any, IPAddress.IPv6Any] : new[] { IPAddress.Any })
            : options.BindAddresses.ToArray();

        for (int attempt = 0; ; attempt++)
        {
            var sockets = new List<Socket>();
            int port = options.Port;
            try
            {
                foreach (var address in addresses)
                {
                    var socket = CreateSocket(address.AddressFamily);
                    try
                    {
                        socket.Bind(new IPEndPoint(address, port));
                    }
                    catch (SocketException ex) when (defaults && sockets.Count > 0 && address.Equals(IPAddress.IPv6Any) && ex.SocketErrorCode != SocketError.AddressAlreadyInUse)
                    {
                        // A host without usable IPv6 still relays over IPv4.
                        LogNoIpv6(logger, ex.SocketErrorCode);
                        socket.Dispose();
                        continue;
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }

                    sockets.Add(socket);
                    port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                }

                return sockets.ToArray();
            }
            catch (SocketException ex) when (options.Port == 0 && sockets.Count > 0 && ex.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < EphemeralBindAttempts)
            {
                sockets.ForEach(s => s.Dispose());
            }
            catch
            {
                sockets.ForEach(s => s.Dispose());
                throw;
            }
        }
    }

    private static Socket CreateSocket(AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.ReceiveBufferSize = SocketBufferBytes;
            socket.SendBufferSize = SocketBufferBytes;
        }
        catch (SocketException)
        {
            // Buffer sizes are a tuning hint; the kernel may cap them.
        }

        socket.Blocking = false;
        return socket;
    }

    // Specific bind addresses are advertised as they are; a wildcard stands for the host's interface addresses.
    private static IPEndPoint[] LocalAddresses(IReadOnlyList<IPEndPoint> bound)
    {
        var result = new List<IPEndPoint>();
        var loopback = new List<IPEndPoint>();
        foreach (var endPoint in bound)
        {
            if (!endPoint.Address.Equals(IPAddress.Any) && !endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                result.Add(endPoint);
                continue;
            }

            foreach (var address in InterfaceAddresses(endPoint.AddressFamily))
            {
                (IPAddress.IsLoopback(address) ? loopback : result).Add(new IPEndPoint(address, endPoint.Port));
            }
        }

        return Unique(result, loopback);
    }

    /// <summary>The endpoints of <paramref name="first"/>, then of <paramref name="second"/>, each once (loops: no LINQ Distinct code in the native tool).</summary>
    private static IPEndPoint[] Unique(IEnumerable<IPEndPoint> first, IEnumerable<IPEndPoint> second)
    {
        var seen = new HashSet<IPEndPoint>();
        var unique = new List<IPEndPoint>();
        foreach (var endPoint in first)
        {
            if (seen.Add(endPoint))
            {
                unique.Add(endPoint);
            }
        }

        foreach (var endPoint in second)
        {
            if (seen.Add(endPoint))
            {
                unique.Add(endPoint);
            }
        }

        return unique.ToArray();
    }

    private static IEnumerable<IPAddress> InterfaceAddresses(AddressFamily family)
    {
        NetworkInterface[] interfaces;
        try
        {
            interfaces = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            return [];
        }

        var addresses = new List<IPAddress>();
        foreach (var networkInterface in interfaces)
        {
            if (networkInterface.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown))
            {
                continue;
            }

            foreach (var unicast in networkInterface.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (address.AddressFamily == family && !address.IsIPv6LinkLocal && !address.IsIPv6Multicast)
                {
                    addresses.Add(address);
                }
            }
        }

        return addresses;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "UDP relay server up on port {Port}, disco key {DiscoKey}, sockets {LocalEndPoints}")]
    private static partial void LogStarted(ILogger logger, int port, string discoKey, string localEndPoints);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "UDP relay server on port {Port} stopped")]
    private static partial void LogStopped(ILogger logger, int port);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Debug, Message = "Relay endpoint VNI {Vni} (Lamport id {LamportId}) allocated for {Client0} and {Client1}")]
    private static partial void LogAllocated(ILogger logger, uint vni, ulong lamportId, string client0, string client1);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Debug, Message = "Relay collection freed {Freed} expired endpoints; {Remaining} remain")]
    private static partial void LogCollected(ILogger logger, int freed, int remaining);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "Relay socket receive failed: {Error}")]
    private static partial void LogReceiveFailed(ILogger logger, SocketError error);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "No IPv6 relay socket ({Error}); relaying over IPv4 only")]
    private static partial void LogNoIpv6(ILogger logger, SocketError error);
}
