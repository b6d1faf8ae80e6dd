using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Control.Session;
using TsNet.Control.State;
using TsNet.Control.Transport;

namespace TsNet.Control.Client;

/// <summary>
/// The real control session (protocol doc §8–§9): per connection <c>/key</c> and ts2021, register (stored login, auth
/// key or interactive), the streaming map poll folded by a <see cref="NetmapFolder"/>, lite updates for endpoint
/// changes, reconnects with <see cref="ControlBackoff"/>, logout. One background task owns the conversation; the
/// decisions live in sans-IO pieces (<see cref="RegisterDecision"/>, <see cref="ControlRequests"/>,
/// <see cref="ControlBackoff"/>) and the I/O behind <see cref="IControlChannel"/>.
/// </summary>
internal sealed class ControlClient : IControlSession
{
    /// <summary>No map message for this long ends the stream (the servers send keep-alives every 50–60 s; Go waits 120 s).</summary>
    public static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Bound on a register request that is not a login follow-up (those wait for a person).</summary>
    public static readonly TimeSpan RegisterTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Bound on a lite update.</summary>
    public static readonly TimeSpan LiteUpdateTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Bound on an ephemeral node's logout when it is disposed.</summary>
    public static readonly TimeSpan EphemeralLogoutTimeout = TimeSpan.FromSeconds(2);

    // A server that calls every new key expired again would make the register step rotate forever.
    private const int MaxKeyRotationsPerRegistration = 3;

    private readonly ControlSessionContext _context;
    private readonly ControlChannelConnector _connect;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ControlBackoff _backoff;
    private readonly ControlBackoff _followupBackoff;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _logoutGate = new(1, 1);
    private readonly Channel<bool> _endpointsChanged = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private ControlState _state;
    private IReadOnlyList<IPEndPoint> _endpoints = [];
    private volatile IReadOnlyList<IPEndPoint>? _sentEndpoints;
    private IControlObserver? _observer;
    private CancellationTokenSource? _runCts;
    private Task? _runTask;
    private bool _streamUp;
    private volatile bool _everAuthorized;
    private volatile bool _loggedOut;
    private int _disposed;

    /// <summary>Creates the session for <paramref name="context"/>; nothing happens before <see cref="Start"/>.</summary>
    public ControlClient(ControlSessionContext context)
        : this(context, cancellationToken => ControlChannel.ConnectAsync(context, cancellationToken))
    {
    }

    /// <summary>Creates the session with its own way to connect (tests: a fake channel); <paramref name="backoff"/> for tests too.</summary>
    internal ControlClient(ControlSessionContext context, ControlChannelConnector connect, ControlBackoff? backoff = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(connect);
        _context = context;
        _connect = connect;
        _time = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<ControlClient>();
        _backoff = backoff ?? new ControlBackoff();
        _followupBackoff = new ControlBackoff(initial: _backoff.Initial, cap: _backoff.Cap);
        _state = context.State;
    }

    /// <summary>No map message for this long drops the stream and reconnects.</summary>
    internal TimeSpan StallTimeout { get; init; } = DefaultStallTimeout;

    /// <summary>
    /// Each stream starts assuming the server sends every map whole (the Go test server without <c>-deltas</c>; see
    /// <see cref="NetmapFolder"/>): a map with a self node and no <c>Peers</c> means no peers. The first delta field
    /// seen on the stream switches that off (<see cref="NetmapFolder.ExpectDeltas"/>).
    /// </summary>
    internal bool FullMapsOnly { get; init; } = true;

    /// <summary>The current state (keys, login).</summary>
    internal ControlState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>The background task (null before <see cref="Start"/> and after it was stopped); for tests.</summary>
    internal Task? RunTask
    {
        get
        {
            lock (_lock)
            {
                return _runTask;
            }
        }
    }

    /// <inheritdoc />
    public void Start(IControlObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_lock)
        {
            if (_observer is not null)
            {
                throw new InvalidOperationException("The control session was started already.");
            }

            _observer = observer;
            StartLoopLocked();
        }
    }

    /// <inheritdoc />
    public void UpdateEndpoints(IReadOnlyList<IPEndPoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        IPEndPoint[] copy = [.. endpoints];
        lock (_lock)
        {
            _endpoints = copy;
        }

        _endpointsChanged.Writer.TryWrite(true);
    }

    /// <inheritdoc />
    public async Task LogoutAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _logoutGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loggedOut)
            {
                return;
            }

            // The loop stops first: once the server drops the key it would otherwise see "node not found" and register again.
            var wasRunning = await StopLoopAsync().ConfigureAwait(false);
            try
            {
                await SendLogoutAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                RestartLoopIf(wasRunning);
                throw;
            }

            _loggedOut = true;
            var state = UpdateState(static state => state.LoggedOut());
            ControlClientLog.LoggedOut(_logger, _context.ControlUrl);
            if (_observer is { } observer)
            {
                await observer.OnNodeKeyChangedAsync(state.NodeKey, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _logoutGate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopLoopAsync().ConfigureAwait(false);
        if (_context.Ephemeral && _everAuthorized && !_loggedOut)
        {
            // Best effort and bounded: the server deletes a logged-out ephemeral node at once instead of after its grace.
            try
            {
                using var bound = new CancellationTokenSource(EphemeralLogoutTimeout, _time);
                await SendLogoutAsync(bound.Token).ConfigureAwait(false);
                _loggedOut = true;
            }
            catch (Exception e)
            {
                ControlClientLog.EphemeralLogoutFailed(_logger, e);
            }
        }
    }

    private async Task SendLogoutAsync(CancellationToken cancellationToken)
    {
        var channel = await _connect(cancellationToken).ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            using var bound = Bound(RegisterTimeout, cancellationToken);
            var response = await channel.RegisterAsync(ControlRequests.Logout(_context, State, _time.GetUtcNow()), bound.Token).ConfigureAwait(false);
            if (response.IsError)
            {
                throw new TailnetLoginException("The control server refused the logout: " + response.Error);
            }
        }
    }

    private void StartLoopLocked()
    {
        var cts = new CancellationTokenSource();
        _runCts = cts;
        _runTask = Task.Run(() => RunAsync(cts.Token), CancellationToken.None);
    }

    private void RestartLoopIf(bool wasRunning)
    {
        lock (_lock)
        {
            if (wasRunning && _runTask is null && _observer is not null && Volatile.Read(ref _disposed) == 0)
            {
                StartLoopLocked();
            }
        }
    }

    /// <summary>Cancels the loop and waits for it; true when it was still running.</summary>
    private async Task<bool> StopLoopAsync()
    {
        CancellationTokenSource? cts;
        Task? task;
        lock (_lock)
        {
            cts = _runCts;
            task = _runTask;
            _runCts = null;
            _runTask = null;
        }

        if (task is null || cts is null)
        {
            return false;
        }

        var wasRunning = !task.IsCompleted;
        await cts.CancelAsync().ConfigureAwait(false);
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cts.Dispose();
        return wasRunning;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var observer = _observer!;
        try
        {
            await RunLoopAsync(observer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ControlClientLog.SessionFaulted(_logger, e);
            observer.OnSessionFaulted(e);
        }
        finally
        {
            _streamUp = false;
        }
    }

    private async Task RunLoopAsync(IControlObserver observer, CancellationToken cancellationToken)
    {
        MachinePublicKey? registeredWith = null;
        var storedLoginFirst = true;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Exception cause;
            try
            {
                var channel = await _connect(cancellationToken).ConfigureAwait(false);
                await using (channel.ConfigureAwait(false))
                {
                    if (registeredWith != channel.ServerKey)
                    {
                        if (registeredWith is not null)
                        {
                            ControlClientLog.ServerKeyChanged(_logger);
                        }

                        if (!await RegisterAsync(observer, channel, storedLoginFirst, cancellationToken).ConfigureAwait(false))
                        {
                            return;
                        }

                        storedLoginFirst = false;
                        registeredWith = channel.ServerKey;
                    }

                    await PollAsync(observer, channel, cancellationToken).ConfigureAwait(false);
                }

                throw new UnreachableException();
            }
            catch (ControlHttpException e) when (e.NodeUnknown && !cancellationToken.IsCancellationRequested)
            {
                ControlClientLog.NodeUnknown(_logger, $"HTTP {(int)e.StatusCode} {e.Body}");
                registeredWith = null;
                storedLoginFirst = false;
                cause = e;
            }
            catch (NodeKeyExpiredException e) when (!cancellationToken.IsCancellationRequested)
            {
                await RotateNodeKeyAsync(observer, cancellationToken).ConfigureAwait(false);
                registeredWith = null;
                storedLoginFirst = false;
                cause = e;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e))
            {
                cause = e;
            }

            var delay = _backoff.Next();
            if (cause is not NodeKeyExpiredException)
            {
                ControlClientLog.ConnectionFailed(_logger, cause, _context.ControlUrl, (long)delay.TotalMilliseconds);
            }

            if (_streamUp)
            {
                _streamUp = false;
                observer.OnControlConnectionChanged(false, cause);
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The register step (doc §8.3); false when the server refused the node (reported; the session stops).</summary>
    private async Task<bool> RegisterAsync(IControlObserver observer, IControlChannel channel, bool storedLoginFirst, CancellationToken cancellationToken)
    {
        var haveAuthKey = !string.IsNullOrEmpty(_context.AuthKey);
        var sendAuthKey = !(storedLoginFirst && HasStoredLogin());
        Uri? followup = null;
        Uri? reported = null;
        var rotations = 0;
        _followupBackoff.Reset();
        while (true)
        {
            var request = ControlRequests.Register(_context, State, sendAuthKey ? _context.AuthKey : null, followup?.ToString(), _time.GetUtcNow());
            RegisterResponse response;
            try
            {
                if (followup is null)
                {
                    using var bound = Bound(RegisterTimeout, cancellationToken);
                    response = await channel.RegisterAsync(request, bound.Token).ConfigureAwait(false);
                }
                else
                {
                    // A follow-up is held by the server until a person completes the login: no bound of ours.
                    response = await channel.RegisterAsync(request, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ControlHttpException e) when (e.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                // Headscale answers 400 "unsupported client version"; retrying cannot change such an answer.
                var message = $"HTTP {(int)e.StatusCode}: {e.Body}";
                ControlClientLog.LoginRefused(_logger, message);
                observer.OnLoginRefused(message);
                return false;
            }

            var decision = RegisterDecision.Decide(response, sentAuthKey: sendAuthKey && haveAuthKey, haveAuthKey);
            switch (decision.Outcome)
            {
                case RegisterOutcome.RetryWithAuthKey:
                    ControlClientLog.StoredLoginNotAccepted(_logger, decision.Message);
                    sendAuthKey = true;
                    followup = null;
                    break;

                case RegisterOutcome.Refused:
                    ControlClientLog.LoginRefused(_logger, decision.Message ?? string.Empty);
                    observer.OnLoginRefused(decision.Message ?? string.Empty);
                    return false;

                case RegisterOutcome.NodeKeyExpired:
                    if (++rotations > MaxKeyRotationsPerRegistration)
                    {
                        throw new ControlProtocolException($"The control server called {rotations} new node keys in a row expired.");
                    }

                    await RotateNodeKeyAsync(observer, cancellationToken).ConfigureAwait(false);
                    sendAuthKey = true;
                    followup = null;
                    break;

                case RegisterOutcome.LoginRequired:
                    var url = decision.AuthUrl!;
                    if (followup is not null)
                    {
                        // The server answered the follow-up without the login completing (a timeout): ask again, paced.
                        var wait = _followupBackoff.Next();
                        ControlClientLog.FollowupWaiting(_logger, (long)wait.TotalMilliseconds, url);
                        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                    }

                    if (reported != url)
                    {
                        reported = url;
                        ControlClientLog.LoginRequired(_logger, url);
                        observer.OnLoginRequired(url);
                    }

                    followup = url;
                    break;

                default:
                    var state = UpdateState(state => state with { LoggedIn = true, ControlUrl = _context.ControlUrl.ToString(), OldNodeKey = null });
                    _everAuthorized = true;
                    ControlClientLog.Registered(_logger, _context.ControlUrl, ControlRequests.NodeKeyText(state.NodeKey));
                    return true;
            }
        }
    }

    /// <summary>One map stream until it fails (always by an exception: a healthy stream never ends on its own).</summary>
    private async Task PollAsync(IControlObserver observer, IControlChannel channel, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPEndPoint> endpoints;
        lock (_lock)
        {
            endpoints = _endpoints;
        }

        var request = ControlRequests.StreamingMap(_context, State, endpoints);
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ended = (int)StreamEnd.None;
        void End(StreamEnd why)
        {
            // The first reason wins (a manual clock can fire both timers at once).
            Interlocked.CompareExchange(ref ended, (int)why, (int)StreamEnd.None);
            try
            {
                streamCts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        using var watchdog = _time.CreateTimer(_ => End(StreamEnd.Stalled), null, StallTimeout, Timeout.InfiniteTimeSpan);
        var expiry = new KeyExpiryTimer(_time, () => End(StreamEnd.KeyExpired));
        Task lite = Task.CompletedTask;
        try
        {
            var map = await channel.OpenMapAsync(request, streamCts.Token).ConfigureAwait(false);
            await using (map.ConfigureAwait(false))
            {
                _sentEndpoints = endpoints;
                lite = LiteUpdatesAsync(channel, streamCts.Token);
                var folder = new NetmapFolder(_time, FullMapsOnly, _context.AcceptRoutes);
                while (true)
                {
                    var response = await map.ReadAsync(streamCts.Token).ConfigureAwait(false)
                        ?? throw new IOException("The control server ended the map stream.");
                    watchdog.Change(StallTimeout, Timeout.InfiniteTimeSpan);
                    if (CarriesDeltas(response))
                    {
                        folder.ExpectDeltas();
                    }

                    var update = folder.Apply(response);
                    if (update is null)
                    {
                        continue;
                    }

                    if (!_streamUp)
                    {
                        _streamUp = true;
                        _backoff.Reset();
                        ControlClientLog.StreamUp(_logger, _context.ControlUrl);
                        observer.OnControlConnectionChanged(true, null);
                    }

                    // The node sees the map that says its key expired (it shows Expired) before the key is renewed.
                    await NotifyNetmapAsync(observer, update, cancellationToken).ConfigureAwait(false);
                    if (update.SelfChanged && folder.Current?.Self is { } self)
                    {
                        if (self.Expired || expiry.Arm(self.KeyExpiry))
                        {
                            throw new NodeKeyExpiredException();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException e) when (Volatile.Read(ref ended) != (int)StreamEnd.None && !cancellationToken.IsCancellationRequested)
        {
            if (Volatile.Read(ref ended) == (int)StreamEnd.KeyExpired)
            {
                throw new NodeKeyExpiredException();
            }

            throw new TimeoutException($"No map message for {StallTimeout.TotalSeconds:0} s: the stream stalled.", e);
        }
        finally
        {
            watchdog.Dispose();
            expiry.Dispose();
            await streamCts.CancelAsync().ConfigureAwait(false);
            await lite.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Sends a lite update whenever the endpoints differ from what the server last got, while the stream lives.</summary>
    private async Task LiteUpdatesAsync(IControlChannel channel, CancellationToken cancellationToken)
    {
        while (await _endpointsChanged.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_endpointsChanged.Reader.TryRead(out _))
            {
            }

            IReadOnlyList<IPEndPoint> endpoints;
            lock (_lock)
            {
                endpoints = _endpoints;
            }

            if (_sentEndpoints is { } sent && sent.SequenceEqual(endpoints))
            {
                continue;
            }

            try
            {
                using var bound = Bound(LiteUpdateTimeout, cancellationToken);
                await channel.SendLiteUpdateAsync(ControlRequests.LiteUpdate(_context, State, endpoints), bound.Token).ConfigureAwait(false);
                _sentEndpoints = endpoints;
                ControlClientLog.LiteUpdateSent(_logger, endpoints.Count);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e))
            {
                ControlClientLog.LiteUpdateFailed(_logger, e);
            }
        }
    }

    private static async ValueTask NotifyNetmapAsync(IControlObserver observer, NetmapUpdate update, CancellationToken cancellationToken)
    {
        try
        {
            await observer.OnNetmapAsync(update, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SessionFaultException("The node failed to apply a netmap.", e);
        }
    }

    private async Task RotateNodeKeyAsync(IControlObserver observer, CancellationToken cancellationToken)
    {
        var state = UpdateState(static state => state.WithNewNodeKey());
        ControlClientLog.NodeKeyRotated(_logger, ControlRequests.NodeKeyText(state.NodeKey));
        try
        {
            await observer.OnNodeKeyChangedAsync(state.NodeKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SessionFaultException("The node failed to take its new node key.", e);
        }
    }

    /// <summary>A message only a delta-sending server sends: its later maps may carry a self node without <c>Peers</c>.</summary>
    private static bool CarriesDeltas(MapResponse response) =>
        response.PeersChanged is not null || response.PeersRemoved is not null || response.PeersChangedPatch is not null
        || response.OnlineChange is not null || response.PeerSeenChange is not null;

    private bool HasStoredLogin()
    {
        var state = State;
        return state.LoggedIn && state.ControlUrl is { } url
            && string.Equals(url.TrimEnd('/'), _context.ControlUrl.ToString().TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Changes the state and saves it when there is a state directory (a failure there is fatal).</summary>
    private ControlState UpdateState(Func<ControlState, ControlState> change)
    {
        ControlState state;
        lock (_lock)
        {
            state = change(_state);
            _state = state;
        }

        if (_context.StateDirectory is { } directory)
        {
            try
            {
                ControlStateStore.Save(directory, state);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SessionFaultException($"The control state cannot be saved in '{directory}': {e.Message}", e);
            }
        }

        return state;
    }

    private TimeoutScope Bound(TimeSpan timeout, CancellationToken cancellationToken) => new(timeout, _time, cancellationToken);

    /// <summary>Failures that end one connection but not the session: the loop logs them and reconnects.</summary>
    private static bool IsTransient(Exception e) =>
        e is IOException or HttpRequestException or ControlProtocolException or TimeoutException or JsonException or OperationCanceledException;

    /// <summary>Why the session ended a stream itself.</summary>
    private enum StreamEnd
    {
        None,
        Stalled,
        KeyExpired,
    }

    /// <summary>The self node's key expired while polling: rotate and register again.</summary>
    private sealed class NodeKeyExpiredException() : Exception("The node key expired.");

    /// <summary>A failure the session cannot recover from (state directory, the node's own callbacks).</summary>
    private sealed class SessionFaultException(string message, Exception inner) : Exception(message, inner);
}
