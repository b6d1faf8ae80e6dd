using System.Buffers;
using System.Net;
using Microsoft.Extensions.Logging;

namespace TsNet.Services.Publishing;

/// <summary>
/// A published UDP port, either direction. The front socket (host for <c>--forward</c>, overlay for
/// <c>--publish</c>) receives from many senders; each sender gets a session with its own socket on the other side,
/// so the target's answers find their way back to that sender. Sessions are bounded in number (over the limit new
/// senders' datagrams are dropped and counted) and end after the idle time without a datagram either way, measured
/// on the node's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class UdpRelay(PortMapping mapping, PublishingContext context) : PortRelay(mapping, context)
{
    /// <summary>The largest UDP payload: the front reads whole datagrams; what does not fit the other side is dropped there.</summary>
    private const int FrontBufferSize = 65535;

    /// <summary>
    /// Per-session receive buffer: above the largest overlay MTU (9000), so every datagram the front can relay fits; a
    /// datagram that fills it is taken as truncated and dropped.
    /// </summary>
    private const int SessionBufferSize = 16 * 1024;

    private readonly object _gate = new();

    /// <summary>Over the session cap every new sender's datagram is dropped: one line per interval for this mapping.</summary>
    private readonly LogRateLimiter _sessionLimitLog = new(context.TimeProvider, LogRateLimiter.DefaultInterval);
    private DatagramChannel? _front;
    private IPEndPoint? _target;
    private UdpSessionTable<UdpSession>? _sessions;
    private ITimer? _sweep;
    private Task? _receiveLoop;
    private bool _closed;

    /// <summary>The session table (set by the bind).</summary>
    internal UdpSessionTable<UdpSession> Sessions => _sessions ?? throw new InvalidOperationException("Not bound yet.");

    public override void Start()
    {
        // A quarter of the idle time: a session ends between 1 and 1.25 idle times after its last datagram.
        var period = Context.UdpSessionIdle / 4;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _sweep = Context.TimeProvider.CreateTimer(_ => Sweep(), null, period, period);
        }

        _receiveLoop = Task.Run(() => FrontLoopAsync(Context.Stopping), CancellationToken.None);
        Context.Tasks.Track(_receiveLoop);
    }

    public override async ValueTask DisposeAsync()
    {
        ITimer? sweep;
        DatagramChannel? front;
        lock (_gate)
        {
            _closed = true;
            sweep = _sweep;
            front = _front;
            _sweep = null;
            _front = null;
        }

        sweep?.Dispose();
        if (front is not null)
        {
            await front.DisposeAsync().ConfigureAwait(false);
            Context.SocketClosed();
        }

        if (_sessions is not null)
        {
            foreach (var session in _sessions.RemoveAll())
            {
                session.Stop();
            }
        }

        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    protected override async ValueTask<IPEndPoint> BindCoreAsync(CancellationToken cancellationToken)
    {
        DatagramChannel front;
        if (Mapping.Direction == PortMappingDirection.HostToTailnet)
        {
            _target = Context.Node.ResolveDialTarget(Mapping.Target!);
            front = HostDatagramChannel.Bind(Mapping.Listen!);
        }
        else
        {
            _target = Mapping.HostTarget!;
            front = new OverlayDatagramChannel(await Context.Node.BindUdpAsync(Mapping.OverlayPort, cancellationToken).ConfigureAwait(false));
        }

        _front = front;
        Context.SocketOpened();
        _sessions = new UdpSessionTable<UdpSession>(Context.UdpMaxSessions, Context.UdpSessionIdle, Context.TimeProvider.TimestampFrequency);
        return front.LocalEndPoint;
    }

    private async Task FrontLoopAsync(CancellationToken cancellationToken)
    {
        var front = _front;
        if (front is null)
        {
            return;
        }

        var sessions = Sessions;
        var buffer = new byte[FrontBufferSize];
        while (!cancellationToken.IsCancellationRequested)
        {
            int length;
            IPEndPoint client;
            try
            {
                (length, client) = await front.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || Volatile.Read(ref _closed))
            {
                return;
            }
            catch (Exception ex)
            {
                PublishingLog.ListenerFailed(Context.Logger, Mapping, ex);
                return;
            }

            var now = Context.TimeProvider.GetTimestamp();
            if (!sessions.TryGet(client, now, out var session))
            {
                session = await OpenSessionAsync(client, now, cancellationToken).ConfigureAwait(false);
                if (session is null)
                {
                    continue;
                }
            }

            try
            {
                await session.Back.SendAsync(buffer.AsMemory(0, length), _target!, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Too large for the overlay MTU, a session closing at this moment, an unreachable target: UDP drops.
                PublishingLog.UdpSendFailed(Context.Logger, Mapping, ex);
            }
        }
    }

    /// <summary>A new session for <paramref name="client"/>, or null when its datagram is dropped.</summary>
    private async ValueTask<UdpSession?> OpenSessionAsync(IPEndPoint client, long now, CancellationToken cancellationToken)
    {
        var sessions = Sessions;
        if (!sessions.HasRoom)
        {
            Port.DatagramDropped();
            if (_sessionLimitLog.ShouldLog(Context.Logger, LogLevel.Debug, out var suppressed))
            {
                PublishingLog.UdpSessionLimit(Context.Logger, Mapping, client.ToString(), Context.UdpMaxSessions, suppressed);
            }

            return null;
        }

        DatagramChannel back;
        try
        {
            back = Mapping.Direction == PortMappingDirection.HostToTailnet
                ? new OverlayDatagramChannel(await Context.Node.BindUdpAsync(0, cancellationToken).ConfigureAwait(false))
                : HostDatagramChannel.Connect(_target!);
        }
        catch (Exception ex)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                Port.DatagramDropped();
                PublishingLog.UdpSessionOpenFailed(Context.Logger, Mapping, client.ToString(), ex);
            }

            return null;
        }

        Context.SocketOpened();
        var session = new UdpSession(client, back, cancellationToken);
        lock (_gate)
        {
            // Only this loop adds, so the room checked above is still there, unless the relay closed meanwhile.
            if (_closed || !sessions.TryAdd(client, session, now))
            {
                session.Stop();
                Context.Tasks.Track(CloseAsync(session).AsTask());
                Port.DatagramDropped();
                return null;
            }
        }

        Port.SessionOpened();
        PublishingLog.UdpSessionOpened(Context.Logger, Mapping, client.ToString(), back.LocalEndPoint.ToString());
        Context.Tasks.Track(Task.Run(() => SessionLoopAsync(session), CancellationToken.None));
        return session;
    }

    /// <summary>Relays the target's answers back to the session's client until the session stops.</summary>
    private async Task SessionLoopAsync(UdpSession session)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(SessionBufferSize);
        try
        {
            while (!session.Stopping.IsCancellationRequested)
            {
                int length;
                IPEndPoint from;
                try
                {
                    (length, from) = await session.Back.ReceiveAsync(buffer, session.Stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || session.Stopping.IsCancellationRequested)
                {
                    break;
                }

                if (!from.Equals(_target) || length >= buffer.Length)
                {
                    continue; // not the target (an overlay socket hears anyone), or truncated
                }

                Sessions.Touch(session.Client, Context.TimeProvider.GetTimestamp());
                var front = Volatile.Read(ref _front);
                if (front is null)
                {
                    break;
                }

                try
                {
                    await front.SendAsync(buffer.AsMemory(0, length), session.Client, session.Stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && session.Stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    PublishingLog.UdpSendFailed(Context.Logger, Mapping, ex);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Sessions.Remove(session.Client, session);
            await CloseAsync(session).ConfigureAwait(false);
            Port.SessionClosed();
        }
    }

    private void Sweep()
    {
        if (_sessions is not { } sessions)
        {
            return;
        }

        foreach (var session in sessions.RemoveIdle(Context.TimeProvider.GetTimestamp()))
        {
            Port.SessionExpired();
            PublishingLog.UdpSessionExpired(Context.Logger, Mapping, session.Client.ToString());
            session.Stop(); // its loop closes the socket
        }
    }

    private async ValueTask CloseAsync(UdpSession session)
    {
        if (session.MarkClosed())
        {
            await session.Back.DisposeAsync().ConfigureAwait(false);
            session.Dispose();
            Context.SocketClosed();
        }
    }

    /// <summary>One sender's session: its socket on the other side and what stops its loop.</summary>
    internal sealed class UdpSession(IPEndPoint client, DatagramChannel back, CancellationToken stopping) : IDisposable
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        private int _closed;

        public IPEndPoint Client { get; } = client;

        public DatagramChannel Back { get; } = back;

        public CancellationToken Stopping => _stop.Token;

        public void Stop()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Closed already.
            }
        }

        public bool MarkClosed() => Interlocked.Exchange(ref _closed, 1) == 0;

        public void Dispose() => _stop.Dispose();
    }
}
