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
internal sealed partial class ControlClient : IControlSession
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
    private int _homeDerp;
    private IReadOnlyDictionary<string, double>? _derpLatencies;
    private int _sentHomeDerp;
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
    public void UpdateHomeDerp(int regionId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(regionId);
        Volatile.Write(ref _homeDerp, regionId);
        _endpointsChanged.Writer.TryWrite(true);
    }

    /// <inheritdoc />
    public void UpdateDerpLatencies(IReadOnlyDictionary<int, TimeSpan> latencies)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        Volatile.Write(ref _derpLatencies, NetInfoLatency.ToWire(latencies));
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
                // A node that never completed a login has no key on the server to invalidate.
                if (_everAuthorized || State.LoggedIn)
                {
                    await SendLogoutAsync(cancellationToken).ConfigureAwait(false);
                }
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

    private TimeoutScope Bound(TimeSpan timeout, CancellationToken cancellationToken) => new(timeout, _time, cancellationToken);

    /// <summary>Failures that end one connection but not the session: the loop logs them and reconnects.</summary>
    private static bool IsTransient(Exception e) =>
        e is IOException or HttpRequestException or System.Net.Sockets.SocketException or ControlProtocolException or TimeoutException
            or JsonException or OperationCanceledException;

    /// <summary>The self node's key expired while polling: rotate and register again.</summary>
    private sealed class NodeKeyExpiredException() : Exception("The node key expired.");

    /// <summary>A failure the session cannot recover from (state directory, the node's own callbacks).</summary>
    private sealed class SessionFaultException(string message, Exception inner) : Exception(message, inner);
}
