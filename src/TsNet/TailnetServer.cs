using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.Netstack;
using TsNet.Packets.Buffers;
using TsNet.Services.Fallback;
using TsNet.WireGuard.Protocol;

namespace TsNet;

/// <summary>
/// A node of a WireGuard-based private network running inside this process: a userspace IP stack wired to a
/// WireGuard dataplane over an unprivileged UDP socket. Create it with options, <see cref="StartAsync"/> it, use it,
/// and dispose it; after <see cref="DisposeAsync"/> no socket, task or timer of the node remains.
/// </summary>
public sealed partial class TailnetServer : IAsyncDisposable
{
    private static readonly TimeSpan s_defaultPingTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_backgroundDrainLimit = TimeSpan.FromSeconds(5);

    private readonly TailnetServerOptions _options;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly PacketBufferPool _pool;
    private readonly CancellationTokenSource _disposing = new();
    private readonly BackgroundTaskTracker _background = new();
    private readonly FallbackTcpRouter _fallback;
    private Task? _startTask;
    private bool _startFailureReported;
    private Task? _disposeTask;
    private DataplaneLoop? _dataplane;
    private NetstackLoop? _netstack;

    /// <summary>
    /// Creates a node from <paramref name="options"/> (copied: later changes to the object have no effect). With
    /// <see cref="TailnetServerOptions.StateDirectory"/>, this constructor reads the node's key from
    /// <c>&lt;dir&gt;/node.key</c> or generates and writes it there, so <see cref="PublicKey"/> is known before
    /// <see cref="StartAsync"/>. In control mode (<see cref="TailnetServerOptions.ControlUrl"/>) the machine and node keys
    /// are kept in <c>&lt;dir&gt;/control.json</c> instead (in memory for an ephemeral node without a state directory),
    /// and <see cref="PublicKey"/> is the node key. No socket is opened before <see cref="StartAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid (the message says which setting).</exception>
    /// <exception cref="InvalidDataException">The state directory's <c>node.key</c> exists but does not hold a key (the message names the file).</exception>
    /// <exception cref="IOException">The state directory or its key file cannot be created or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The process may not read or create the key file.</exception>
    public TailnetServer(TailnetServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = OptionsValidation.Snapshot(options);
        _logger = _options.LoggerFactory.CreateLogger("TsNet.TailnetServer");
        _addresses = Array.AsReadOnly(IPNetworkLists.BaseAddresses(_options.Addresses));
        _controlState = LoadControlState();
        _privateKey = _controlState?.NodeKey ?? _options.PrivateKey;
        _publicKey = _privateKey.PublicKey;
        _pool = new PacketBufferPool(PoolBufferSize(_options.Mtu));
        // One snapshot for all configured peers (validated above): adding them one by one would rebuild it per peer.
        _registry.ReplaceAll([.. _options.Peers.Select(peer => Registry.RegistryPeer.FromStatic(peer, _options.DnsSuffix))]);
        AllowedIpsOverlap.WarnAll(_options.Peers, _logger);

        _fallback = new FallbackTcpRouter(
            new FallbackTcpLimits
            {
                MaxInFlightPerPort = _options.Limits.FallbackTcpMaxInFlightPerPort,
                MaxPorts = _options.Limits.FallbackTcpMaxPorts,
                IdleReap = _options.Limits.FallbackTcpIdleReap,
            },
            _options.TimeProvider, _options.LoggerFactory.CreateLogger("TsNet.Fallback"), _background.Track, _disposing.Token);
        Metrics = new Metrics.TailnetMetrics(CollectMetrics);
    }

    /// <summary>The node's public key (its node key): the current one, also after a key rotation.</summary>
    public WireGuardKey PublicKey => _publicKey;

    /// <summary>
    /// The node's disco public key (from <see cref="TailnetServerOptions.DiscoKey"/>, generated when absent): what a
    /// relay endpoint is allocated for and what peers name in <see cref="TailnetRelayPath.PeerDiscoKey"/>.
    /// </summary>
    public DiscoKey DiscoPublicKey => _options.DiscoKey.PublicKey;

    /// <summary>The node's overlay addresses: the current ones, also after they changed while running.</summary>
    public IReadOnlyList<IPAddress> Addresses => Volatile.Read(ref _addresses);

    /// <summary>The underlay UDP port: the port actually bound once started, the configured one before.</summary>
    public int ListenPort => _dataplane?.ListenPort ?? _options.ListenPort;

    /// <summary>
    /// Binds the underlay and starts the node's loops. Idempotent: later calls return the first call's outcome.
    /// Cancelling stops this caller's wait, not a start already in progress. A start that fails releases whatever
    /// it had bound before it throws, and later calls throw the same error.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The underlay port could not be bound (for example it is in use).</exception>
    public ValueTask StartAsync(CancellationToken cancellationToken = default)
    {
        Task start;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            start = _startTask ??= Task.Run(() => StartCoreAsync(_disposing.Token));
        }

        return new ValueTask(WaitForStartAsync(start, cancellationToken));
    }

    /// <summary>A caller's wait for the start; a failure that reaches a caller is not logged again at dispose.</summary>
    private async Task WaitForStartAsync(Task start, CancellationToken cancellationToken)
    {
        try
        {
            await start.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (start.IsFaulted)
        {
            Volatile.Write(ref _startFailureReported, true);
            throw;
        }
    }

    // disposing: the node's own token (StartAsync waits on the caller's separately), cancelled only by DisposeAsync.
    private async Task StartCoreAsync(CancellationToken disposing)
    {
        EnterStarting();
        var privateKey = _privateKey;
        var addresses = Volatile.Read(ref _addresses);
        var core = new WireGuardEndpoint(new WireGuardEndpointOptions
        {
            PrivateKey = privateKey.Bytes.ToArray(),
            Timers = _options.TestHooks.Timers,
            Pool = _pool,
            Mtu = _options.Mtu,
            UnderLoadThreshold = _options.TestHooks.UnderLoadThreshold,
            WallClock = _options.TimeProvider,
        });

        var fromWireGuard = Channel.CreateBounded<PacketBuffer>(new BoundedChannelOptions(_options.QueueCapacity) { SingleReader = true });
        DataplaneLoop? created = null;
        var dataplane = new DataplaneLoop(
            core,
            _options.QueueCapacity,
            fromWireGuard.Writer,
            CreateUnderlayBinder(),
            _options.ListenPort,
            _options.TimeProvider,
            _options.LoggerFactory.CreateLogger("TsNet.Dataplane"))
        {
            Capture = _capture,
            DiscoPrivateKey = _options.DiscoKey.Bytes.ToArray(),
            RelayBindRetryInterval = _options.TestHooks.RelayBindRetryInterval,
            WrapUnderlay = CreatePathLayerFactory(() => created!.Now),
        };
        created = dataplane;
        dataplane.HandshakeRetrying += OnHandshakeRetrying;
        TrackSilentPeers(core, dataplane);
        dataplane.Faulted += cause => OnLoopFaulted("dataplane", cause);

        var netstack = new NetstackLoop(
            new NetstackOptions
            {
                Addresses = addresses,
                Mtu = _options.Mtu,
                Pool = _pool,
                OutboundQueueCapacity = _options.QueueCapacity,
                TimestampFrequency = global::TsNet.Loops.LoopClock.TicksPerSecond,
                MaxTcpConnections = _options.Limits.MaxTcpConnections,
                TcpListenBacklog = _options.Limits.TcpListenBacklog,
                Udp = new global::TsNet.Netstack.UdpOptions { ReceiveQueueCapacity = _options.Limits.UdpReceiveQueueCapacity },
                TcpTuning = global::TsNet.Netstack.Tcp.TcpConfig.Default with
                {
                    SendBufferSize = _options.Limits.TcpInitialBufferSize,
                    ReceiveBufferSize = _options.Limits.TcpInitialBufferSize,
                    MaxSendBufferSize = _options.Limits.TcpMaxBufferSize,
                    MaxReceiveBufferSize = _options.Limits.TcpMaxBufferSize,
                },
            },
            fromWireGuard.Reader,
            dataplane.ToWireGuard,
            _options.TimeProvider);
        netstack.Faulted += cause => OnLoopFaulted("netstack", cause);

        bool disposed;
        lock (_gate)
        {
            disposed = _disposeTask is not null;
            if (!disposed)
            {
                _dataplane = dataplane;
                _netstack = netstack;
            }
        }

        if (disposed)
        {
            // Disposed while we were resolving: nothing may outlive the node (its dispose waits for this start).
            await dataplane.DisposeAsync().ConfigureAwait(false);
            await netstack.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(TailnetServer));
        }

        _fallback.Attach(netstack);
        try
        {
            // The only place the underlay is bound: constructing the loops above took no socket.
            dataplane.Start();
            _options.TestHooks.AfterUnderlayBound?.Invoke();
            netstack.Start();
            await CatchUpIdentityAsync(dataplane, netstack, privateKey, addresses, disposing).ConfigureAwait(false);
            await ApplyRegistryAsync(dataplane, disposing).ConfigureAwait(false);
            await StartControlSessionAsync(dataplane, disposing).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await ReleaseFailedStartAsync(dataplane, netstack, ex).ConfigureAwait(false);
            SetState(TailnetState.Stopped, exception: ex);
            if (ex is OperationCanceledException && disposing.IsCancellationRequested)
            {
                // Cancelled by the dispose: the caller sees what dispose means, not a cancellation it never asked for.
                throw new ObjectDisposedException(nameof(TailnetServer), "The node was disposed while it was starting.");
            }

            throw;
        }

        LogStarted(_logger, PublicKey.ToString(), dataplane.ListenPort, string.Join(",", Addresses));
        EnterRunningIfStatic();
    }

    /// <summary>Sends ICMP echo requests through the tailnet until one is answered; returns the round-trip time.</summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/> (default 5 s); when no WireGuard
    /// handshake with the peer completed, the message names the peer, its endpoint and what to check.</exception>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">NetworkUnreachable at once ("no peer routes …") when neither
    /// the node nor any peer's AllowedIPs contain the address; HostUnreachable at once when the peer's node key expired
    /// (control mode). The node's own addresses answer like loopback.</exception>
    public ValueTask<TimeSpan> PingAsync(IPAddress address, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var netstack = Started().netstack;
        var target = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (!HasOverlayRoute(target))
        {
            return ValueTask.FromException<TimeSpan>(NoRouteException(address));
        }

        if (_registry.Current.FindByAddress(target) is { KeyExpiry: not null } peer && PeerKeyExpiredException(peer) is { } expired)
        {
            return ValueTask.FromException<TimeSpan>(expired);
        }

        return PingExplainingTimeoutAsync(netstack, address, timeout ?? s_defaultPingTimeout, cancellationToken);
    }

    /// <summary>Test hook: moves the underlay to a new UDP port mid-session (0 = ephemeral); returns the new port.</summary>
    internal async ValueTask<int> RebindUnderlayAsync(int port, CancellationToken cancellationToken = default)
    {
        var (dataplane, _) = Started();
        var bound = await dataplane.InvokeAsync<int>((loop, _) => loop.RebindAsync(port), cancellationToken).ConfigureAwait(false);
        RefreshLocalEndpoints(dataplane);
        return bound;
    }

    /// <summary>Test and status hook: a snapshot of the core's peers, taken on the dataplane's task.</summary>
    internal Task<T> InspectAsync<T>(Func<WireGuardEndpoint, T> inspect, CancellationToken cancellationToken = default)
    {
        var (dataplane, _) = Started();
        return dataplane.InvokeAsync((loop, _) => ValueTask.FromResult(inspect(loop.Core)), cancellationToken);
    }

    /// <summary>Stops the node: closes the underlay, ends every loop, fails pending calls. Idempotent and safe while <see cref="StartAsync"/> runs.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposeTask ??= DisposeCoreAsync();
            return new ValueTask(_disposeTask);
        }
    }

    private async Task DisposeCoreAsync()
    {
        await _disposing.CancelAsync().ConfigureAwait(false);
        Task? start;
        lock (_gate)
        {
            start = _startTask;
        }

        if (start is not null)
        {
            try
            {
                await start.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                // Start was cut short by this dispose.
            }
            catch (Exception ex) when (!Volatile.Read(ref _startFailureReported))
            {
                LogStartFailedDuringDispose(_logger, ex);
            }
            catch (Exception)
            {
                // StartAsync already threw this to its caller, who reports it; a warning here would say it twice.
            }
        }

        // Before the loops: an ephemeral session logs out, and no netmap is applied to loops being torn down.
        await StopControlSessionAsync().ConfigureAwait(false);

        NetstackLoop? netstack;
        DataplaneLoop? dataplane;
        lock (_gate)
        {
            netstack = _netstack;
            dataplane = _dataplane;
        }

        if (netstack is not null)
        {
            await netstack.DisposeAsync().ConfigureAwait(false);
        }

        if (dataplane is not null)
        {
            await dataplane.DisposeAsync().ConfigureAwait(false);
        }

        await DisposeRelayServersAsync().ConfigureAwait(false);

        // Peer updates and name lookups saw the cancellation; a host-name lookup the OS cannot cancel is bounded.
        if (!await _background.WaitAllAsync(s_backgroundDrainLimit).ConfigureAwait(false))
        {
            LogBackgroundWorkOutlived(_logger, _background.Count);
        }

        Metrics.Dispose();
        _disposing.Dispose();
        SetState(TailnetState.Stopped);
        LogStopped(_logger);
    }

    /// <summary>Test hook: every task the node runs (loops, underlay and relay receivers, tracked background work) at this moment.</summary>
    /// <summary>Test hook: the node's underlay sockets (the current ones; a rebind closes the old ones itself).</summary>
    internal IReadOnlyList<System.Net.Sockets.Socket> OwnedSockets()
    {
        lock (_gate)
        {
            return _dataplane is null ? [] : _dataplane.UnderlaySockets.ToList();
        }
    }

    internal IReadOnlyList<Task> OwnedTasks()
    {
        var tasks = new List<Task>();
        lock (_gate)
        {
            if (_dataplane is not null)
            {
                tasks.AddRange(_dataplane.OwnedTasks);
            }

            if (_netstack is not null)
            {
                tasks.Add(_netstack.Completion);
            }

            foreach (var relay in _relayServers)
            {
                tasks.AddRange(relay.Receivers);
            }
        }

        tasks.AddRange(_background.Snapshot());
        return tasks;
    }

    private (DataplaneLoop dataplane, NetstackLoop netstack) Started()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            if (_dataplane is null || _netstack is null)
            {
                throw new InvalidOperationException("The node is not started; call StartAsync first.");
            }

            ThrowIfFaulted();
            return (_dataplane, _netstack);
        }
    }
}
