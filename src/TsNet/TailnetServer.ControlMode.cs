using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.Control.Session;
using TsNet.Control.State;
using TsNet.Dataplane;

namespace TsNet;

// Control mode (TailnetServerOptions.ControlUrl): the node's life as a member of a tailnet. The control session
// (IControlSession) registers and polls the map on its own task and reports through the observer
// (TailnetServer.ControlObserver.cs); this file owns the session's lifetime and the state machine:
// Stopped → Starting → (NeedsLogin) → Running ⇄ Expired; Stopped after a refused login, Faulted after a fault.
public sealed partial class TailnetServer
{
    /// <summary>Most local endpoints sent to the coordination server (a host with many interfaces sends the first ones).</summary>
    private const int MaxLocalEndpoints = 16;

    /// <summary>Guards the control-mode state below and orders state changes with each other.</summary>
    private readonly object _controlGate = new();

    /// <summary>Machine key, node key and login as loaded at construction (control mode); null in static mode.</summary>
    private readonly ControlState? _controlState;

    private IControlSession? _controlSession;

    /// <summary>Completes when the node is Running; failed after a refused login, a fault or dispose. Replaced when Running ends.</summary>
    private TaskCompletionSource _running = NewRunningSignal();

    private bool _controlConnected;
    private IReadOnlyList<IPEndPoint> _localEndpoints = [];

    /// <summary>True while the map stream to the coordination server is up (control mode).</summary>
    internal bool ControlConnected => Volatile.Read(ref _controlConnected);

    private static TaskCompletionSource NewRunningSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Constructor: the control state from the state directory (made there on first use), or in memory for an ephemeral node without one.</summary>
    private ControlState? LoadControlState()
    {
        if (_options.ControlUrl is null)
        {
            return null;
        }

        return _options.StateDirectory is { } directory
            ? ControlStateStore.LoadOrCreate(directory, _logger)
            : new ControlState { MachineKey = WireGuardKey.Generate(), NodeKey = WireGuardKey.Generate() };
    }

    /// <summary>Static mode has peers of its own; control mode takes them from the coordination server only.</summary>
    /// <exception cref="InvalidOperationException">The node is in control mode.</exception>
    private void EnsureStaticMode()
    {
        if (_options.ControlUrl is not null)
        {
            throw new InvalidOperationException(
                "Peers cannot be added or removed on a node in control mode (TailnetServerOptions.ControlUrl): the coordination server provides them.");
        }
    }

    private void EnterStarting()
    {
        if (_options.ControlUrl is not null)
        {
            lock (_controlGate)
            {
                SetState(TailnetState.Starting);
            }
        }
    }

    private void EnterRunningIfStatic()
    {
        if (_options.ControlUrl is null)
        {
            lock (_controlGate)
            {
                if (Fault is null)
                {
                    SetState(TailnetState.Running);
                    _running.TrySetResult();
                }
            }
        }
    }

    /// <summary>
    /// At start, once the loops run: inbound packets are denied until the netmap's rules arrive (as Tailscale does
    /// before its first netmap), then the session is made and started, and told the node's underlay endpoints.
    /// </summary>
    private async Task StartControlSessionAsync(DataplaneLoop dataplane, CancellationToken cancellationToken)
    {
        if (_options.ControlUrl is not { } controlUrl || _controlState is null)
        {
            return;
        }

        await SetPacketFilterAsync(Filter.PacketFilter.DenyAll, cancellationToken).ConfigureAwait(false);
        var endpoints = LocalEndpoints(dataplane);
        Volatile.Write(ref _localEndpoints, endpoints);
        var authKey = _options.AuthKey ?? Environment.GetEnvironmentVariable("TS_AUTHKEY");
        var context = new ControlSessionContext
        {
            ControlUrl = controlUrl,
            State = _controlState,
            StateDirectory = _options.StateDirectory,
            AuthKey = string.IsNullOrWhiteSpace(authKey) ? null : authKey,
            Hostname = _options.Hostname ?? OptionsValidation.FallbackHostname,
            Ephemeral = _options.Ephemeral,
            AdvertiseTags = [.. _options.AdvertiseTags],
            AdvertiseRoutes = IPNetworkLists.ToArray(_options.AdvertiseRoutes),
            AcceptRoutes = _options.AcceptRoutes,
            CapabilityVersion = _options.CapabilityVersion,
            DiscoPublicKey = DiscoPublicKey,
            TimeProvider = _options.TimeProvider,
            LoggerFactory = _options.LoggerFactory,
            TrustedRootForTests = _options.TestHooks.ControlTrustedRoot,
        };
        var session = _options.TestHooks.ControlSessionFactory?.Invoke(context) ?? new Control.Client.ControlClient(context);
        bool disposed;
        lock (_gate)
        {
            disposed = _disposeTask is not null;
            if (!disposed)
            {
                _controlSession = session;
            }
        }

        if (disposed)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(TailnetServer));
        }

        try
        {
            session.Start(new ControlObserver(this));
            session.UpdateEndpoints(AnnouncedEndpoints(endpoints));
            if (HomeDerpRegion is var home and > 0)
            {
                session.UpdateHomeDerp(home);
            }
        }
        catch
        {
            lock (_gate)
            {
                _controlSession = null;
            }

            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await OnDataplaneAsync(dataplane, (loop, now) =>
        {
            loop.Paths?.SetLocalEndpoints(AnnouncedEndpoints(endpoints), now);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        LogControlSessionStarted(_logger, controlUrl, context.Hostname, string.Join(",", endpoints));
    }

    /// <summary>
    /// At dispose, before the loops go: disposes the session (an ephemeral one logs out), stops the expiry timer, and
    /// ends every wait for Running.
    /// </summary>
    private async Task StopControlSessionAsync()
    {
        IControlSession? session;
        lock (_gate)
        {
            session = _controlSession;
        }

        if (session is not null)
        {
            try
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogControlSessionDisposeFailed(_logger, ex);
            }
        }

        lock (_controlGate)
        {
            ScheduleSelfExpiry(null);
            FailRunning(new ObjectDisposedException(nameof(TailnetServer)));
        }
    }

    /// <summary>UpAsync in control mode: waits for Running (the first netmap applied), or the reason it will not come.</summary>
    private async Task WaitUntilRunningAsync(CancellationToken cancellationToken)
    {
        Task running;
        lock (_controlGate)
        {
            running = _running.Task;
        }

        await running.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Under <see cref="_controlGate"/>: the node is Running (or Expired when its key already expired); wakes UpAsync.</summary>
    private void EnterRunningOrExpired()
    {
        if (Fault is not null || _running.Task.IsFaulted)
        {
            return;
        }

        if (SelfKeyExpired)
        {
            if (State != TailnetState.Expired)
            {
                LogSelfKeyExpired(_logger, _selfKeyExpiry!.Value);
            }

            LeaveRunning(TailnetState.Expired);
            return;
        }

        SetState(TailnetState.Running);
        _running.TrySetResult();
    }

    /// <summary>Under <see cref="_controlGate"/>: moves to a state other than Running; later UpAsync calls wait for Running again.</summary>
    private void LeaveRunning(TailnetState state, Uri? authUrl = null)
    {
        if (_running.Task.IsCompletedSuccessfully)
        {
            _running = NewRunningSignal();
        }

        SetState(state, authUrl);
    }

    /// <summary>Under <see cref="_controlGate"/>: waits for Running fail with <paramref name="error"/> (the first failure stays).</summary>
    private void FailRunning(Exception error)
    {
        if (_running.Task.IsFaulted)
        {
            return;
        }

        if (_running.Task.IsCompleted)
        {
            _running = NewRunningSignal();
        }

        _running.TrySetException(error);
        _ = _running.Task.Exception; // observed: nobody may be waiting
    }

    /// <summary>A loop or the control session failed: the node is Faulted and UpAsync throws the fault.</summary>
    private void EnterFaulted(Exception cause)
    {
        lock (_controlGate)
        {
            FailRunning(new InvalidOperationException($"The node faulted: {cause.Message}", cause));
            SetState(TailnetState.Faulted, exception: cause);
        }
    }

    /// <summary>LogoutAsync: the session logs out; then the node drops its peers and addresses and needs a new login.</summary>
    private async Task LogoutCoreAsync(CancellationToken cancellationToken)
    {
        IControlSession session;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            session = _controlSession ?? throw new InvalidOperationException("The node is not started; call StartAsync first.");
        }

        await session.LogoutAsync(cancellationToken).ConfigureAwait(false);
        await ClearNetmapAsync(cancellationToken).ConfigureAwait(false);
        lock (_controlGate)
        {
            ScheduleSelfExpiry(null);
            LeaveRunning(TailnetState.NeedsLogin);
        }

        LogLoggedOut(_logger);
    }

    /// <summary>The underlay moved (a rebind): the coordination server hears the new endpoints in a lite update.</summary>
    private void RefreshLocalEndpoints(DataplaneLoop dataplane)
    {
        IControlSession? session;
        lock (_gate)
        {
            session = _controlSession;
        }

        if (session is not null)
        {
            var endpoints = LocalEndpoints(dataplane);
            Volatile.Write(ref _localEndpoints, endpoints);
            session.UpdateEndpoints(AnnouncedEndpoints(endpoints));
        }
    }

    /// <summary>
    /// The node's underlay endpoints as the coordination server passes them to peers: the bound UDP port on each
    /// address of the host's interfaces that are up, loopback last (STUN-discovered endpoints come with NAT
    /// traversal). On the in-memory test underlay: <c>127.0.0.1:port</c>, where the hub's other nodes reach it.
    /// </summary>
    private IReadOnlyList<IPEndPoint> LocalEndpoints(DataplaneLoop dataplane)
    {
        var port = dataplane.ListenPort;
        if (_options.TestHooks.InMemoryUnderlay is not null)
        {
            return [new IPEndPoint(IPAddress.Loopback, port)];
        }

        var ipv6 = dataplane.UnderlaySockets.Any(socket => socket.AddressFamily == AddressFamily.InterNetworkV6);
        var endpoints = new List<IPEndPoint>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var address = unicast.Address;
                    var usable = address.AddressFamily == AddressFamily.InterNetwork
                        || (ipv6 && address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal && !IPAddress.IsLoopback(address));
                    if (usable && endpoints.Count < MaxLocalEndpoints - 2 && !endpoints.Exists(e => e.Address.Equals(address)))
                    {
                        endpoints.Add(new IPEndPoint(address, port));
                    }
                }
            }
        }
        catch (NetworkInformationException ex)
        {
            LogNoInterfaceAddresses(_logger, ex.Message);
        }

        endpoints.Add(new IPEndPoint(IPAddress.Loopback, port));
        if (ipv6)
        {
            endpoints.Add(new IPEndPoint(IPAddress.IPv6Loopback, port));
        }

        return endpoints;
    }

    /// <summary>
    /// Dial check: a peer whose node key expired (by the local clock) is not dialed; it would not answer, and the
    /// dial would wait out its handshake bound to say less.
    /// </summary>
    /// <exception cref="SocketException"><see cref="SocketError.HostUnreachable"/>, naming the peer and when its key expired.</exception>
    internal void EnsurePeerKeyNotExpired(IPAddress address)
    {
        if (_registry.Current.FindByAddress(address) is { } peer && PeerKeyExpiredException(peer) is { } expired)
        {
            throw expired;
        }
    }

    /// <summary>The error of a dial, ping or send to <paramref name="peer"/> when its node key expired (by the local clock); else null.</summary>
    private SocketException? PeerKeyExpiredException(Registry.RegistryPeer peer) =>
        peer.KeyExpiry is { } expiry && expiry <= _options.TimeProvider.GetUtcNow()
            ? new SocketException(
                (int)SocketError.HostUnreachable,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "node key of {0} expired at {1:yyyy-MM-dd HH:mm:ss}Z: the peer must log in again before it can be reached.",
                    peer.DnsName ?? peer.Name ?? peer.NodeKey.ToString(),
                    expiry.UtcDateTime))
            : null;

    /// <summary>A peer's path as status text: <c>relay ip:port</c> on a relay path, else <c>direct ip:port</c>; null without an endpoint.</summary>
    private static string? PathText(Registry.RegistryPeer entry, IPEndPoint? endpoint) => endpoint is null
        ? null
        : entry.Relay is { Address: { } relay } ? "relay " + relay : "direct " + endpoint;

    [LoggerMessage(EventId = 1410, Level = LogLevel.Information, Message = "Control session with {ControlUrl} started as {Hostname}, endpoints {Endpoints}")]
    private static partial void LogControlSessionStarted(ILogger logger, Uri controlUrl, string hostname, string endpoints);

    [LoggerMessage(EventId = 1411, Level = LogLevel.Warning, Message = "Disposing the control session failed")]
    private static partial void LogControlSessionDisposeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1412, Level = LogLevel.Information, Message = "Logged out of the coordination server; the node needs a new login")]
    private static partial void LogLoggedOut(ILogger logger);

    [LoggerMessage(EventId = 1413, Level = LogLevel.Warning, Message = "Could not list the host's interface addresses ({Reason}); only loopback endpoints are sent to the coordination server")]
    private static partial void LogNoInterfaceAddresses(ILogger logger, string reason);
}
