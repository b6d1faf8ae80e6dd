using System.Net;

namespace TsNet.Netstack.Sockets;

/// <summary>
/// The hand-off between an app-facing TCP stream and the netstack loop that owns the connection: two lean pipes
/// (app → loop for bytes to send, loop → app for bytes received) and a few flags. The app side never touches the
/// TCP state; it writes/reads the pipes and calls <see cref="Notify"/>, which queues this channel for the loop.
/// </summary>
internal sealed class TcpStreamChannel
{
    /// <summary>Received bytes the loop moves into <see cref="Receive"/> ahead of the app, at most; beyond it the TCP
    /// receive buffer fills and the advertised window closes (back-pressure to the peer).</summary>
    public const int ReceiveAheadBytes = 256 * 1024;

    /// <summary>Flushed app bytes not yet taken by the loop at which the app's flushes wait for it (back-pressure to
    /// the app); they resume once fewer than half remain.</summary>
    public const int SendPauseBytes = 256 * 1024;

    private readonly Action<TcpStreamChannel> _schedule;
    private readonly Tcp.TcpConnection _connection;
    private IPEndPoint? _localEndPoint;
    private IPEndPoint? _remoteEndPoint;
    private int _queued;
    private long _consumedByApp;
    private int _abortRequested;
    private int _throttledFlag;
    private long _writtenSnapshot;
    private CancellationTokenSource? _closedSource;
    private int _closedSignaled;

    /// <param name="connection">The connection; only its immutable 4-tuple is read here (any thread).</param>
    /// <param name="schedule">Queues the channel for the loop (one shared delegate per loop).</param>
    public TcpStreamChannel(Tcp.TcpConnection connection, Action<TcpStreamChannel> schedule)
    {
        _connection = connection;
        _schedule = schedule;
        // Lean pipes (one object each, no array while empty): what keeps an idle connection small. The loop's
        // writes into Receive never wait; the loop bounds itself with ReceiveAheadBytes instead.
        Receive = new TcpReceivePipe(this);
        Send = new TcpSendPipe(this);
    }

    /// <summary>Our address and port; made on first use (most connections never ask), then the same instance.</summary>
    public IPEndPoint LocalEndPoint => _localEndPoint ?? Publish(ref _localEndPoint, new IPEndPoint(_connection.Endpoints.LocalAddress.ToIPAddress(), _connection.Endpoints.LocalPort));

    /// <summary>The peer's address and port; made on first use, then the same instance.</summary>
    public IPEndPoint RemoteEndPoint => _remoteEndPoint ?? Publish(ref _remoteEndPoint, new IPEndPoint(_connection.Endpoints.RemoteAddress.ToIPAddress(), _connection.Endpoints.RemotePort));

    /// <summary>Loop writes received bytes, app reads (the app's <see cref="System.IO.Pipelines.PipeReader"/>).</summary>
    public TcpReceivePipe Receive { get; }

    /// <summary>App writes bytes to send, loop reads (the app's <see cref="System.IO.Pipelines.PipeWriter"/>).</summary>
    public TcpSendPipe Send { get; }

    /// <summary>Loop-owned: bytes written into <see cref="Receive"/> so far.</summary>
    public long WrittenByLoop { get; set; }

    /// <summary>Bytes the app has consumed from <see cref="Receive"/> (app thread writes, loop reads).</summary>
    public long ConsumedByApp => Interlocked.Read(ref _consumedByApp);

    /// <summary>Loop-owned: the receive pipe was completed (end of stream, error, or the app stopped reading).</summary>
    public bool ReceiveCompleted { get; set; }

    /// <summary>Loop-owned: whether the loop stopped moving received bytes because the app is behind.</summary>
    public bool ReceiveThrottled { get; set; }

    public bool AbortRequested => Volatile.Read(ref _abortRequested) != 0;

    /// <summary>Loop-owned state the integration attaches (the TCP connection).</summary>
    public object? Owner { get; set; }

    /// <summary>App side: <paramref name="bytes"/> were consumed; wakes the loop when it was holding data back.</summary>
    public void OnAppConsumed(long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        var consumed = Interlocked.Add(ref _consumedByApp, bytes);
        if (Volatile.Read(ref _throttledFlag) != 0 && WrittenByLoopSnapshot - consumed <= ReceiveAheadBytes / 2)
        {
            Notify();
        }
    }

    private long WrittenByLoopSnapshot => Interlocked.Read(ref _writtenSnapshot);

    /// <summary>
    /// Loop side: publishes the throttle state the app thread reads in <see cref="OnAppConsumed"/>. Both sides use
    /// full fences (the app adds to its counter then reads the flag; the loop writes the flag then reads the counter),
    /// so at least one of them sees the other: either the app notifies, or the loop's re-check after publishing
    /// (see the caller) finds the room itself. Without that, a throttled receive could stall forever.
    /// </summary>
    public void PublishReceiveState()
    {
        Interlocked.Exchange(ref _writtenSnapshot, WrittenByLoop);
        Interlocked.Exchange(ref _throttledFlag, ReceiveThrottled ? 1 : 0);
    }

    /// <summary>App side: asks the loop to reset the connection.</summary>
    public void RequestAbort()
    {
        Volatile.Write(ref _abortRequested, 1);
        Notify();
    }

    /// <summary>
    /// App side: fires once the peer's FIN or RST arrived (after every byte before it went into <see cref="Receive"/>)
    /// or the connection ended, like a socket transport's "connection closed" (Kestrel's RequestAborted hangs on it).
    /// The source is created on first use, so connections nobody watches pay nothing.
    /// </summary>
    public CancellationToken Closed
    {
        get
        {
            var source = Volatile.Read(ref _closedSource);
            if (source is null)
            {
                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _closedSource, created, null) ?? created;
                // Signalled before the source existed: the signal saw no source, so fire here (both may fire; harmless).
                if (Volatile.Read(ref _closedSignaled) != 0)
                {
                    Fire(source);
                }
            }

            return source.Token;
        }
    }

    /// <summary>Either side: the connection is closed for reading (peer's FIN or RST, or the end); fires <see cref="Closed"/> once.</summary>
    public void SignalClosed()
    {
        if (Interlocked.Exchange(ref _closedSignaled, 1) == 0 && Volatile.Read(ref _closedSource) is { } source)
        {
            Fire(source);
        }
    }

    // Never inline: the loop (or a caller holding its own locks) must not run the app's callbacks.
    private static void Fire(CancellationTokenSource source) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Cancel(), source, preferLocal: false);

    /// <summary>The first of racing threads publishes its endpoint; every caller gets that one.</summary>
    private static IPEndPoint Publish(ref IPEndPoint? field, IPEndPoint created) =>
        Interlocked.CompareExchange(ref field, created, null) ?? created;

    /// <summary>Queues this channel for the loop (at most once until the loop takes it).</summary>
    public void Notify()
    {
        if (Interlocked.Exchange(ref _queued, 1) == 0)
        {
            _schedule(this);
        }
    }

    /// <summary>Loop side: called when the loop takes the channel off its queue, before servicing it.</summary>
    public void MarkDequeued() => Volatile.Write(ref _queued, 0);
}
