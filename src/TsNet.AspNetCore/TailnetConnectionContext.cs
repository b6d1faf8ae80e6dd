using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace TsNet.AspNetCore;

/// <summary>
/// One tailnet TCP connection as Kestrel sees it: the transport is the connection's pipe view, adapted to what Kestrel
/// expects of a transport after a peer's reset (see <see cref="ResetTranslatingPipeReader"/> and
/// <see cref="ResetTolerantPipeWriter"/>); abort resets it (RST), dispose closes it (FIN after what Kestrel wrote).
/// The context is also its own connection features, as Kestrel's socket transport does.
/// </summary>
internal sealed class TailnetConnectionContext :
    ConnectionContext,
    IConnectionIdFeature,
    IConnectionTransportFeature,
    IConnectionItemsFeature,
    IConnectionLifetimeFeature,
    IConnectionEndPointFeature
{
    // Ids only need to be unique within the process for logs; a random prefix keeps separate runs apart.
    private static readonly string s_idPrefix = Random.Shared.Next().ToString("X8", CultureInfo.InvariantCulture);
    private static long s_lastId;

    private readonly TailnetConnection _connection;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closed = new();
    private int _disposed;

    public TailnetConnectionContext(TailnetConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
        ConnectionId = string.Create(CultureInfo.InvariantCulture, $"{s_idPrefix}:{Interlocked.Increment(ref s_lastId):X8}");
        Transport = new DuplexPipe(new ResetTranslatingPipeReader(connection.Transport.Input), new ResetTolerantPipeWriter(connection.Transport.Output));
        LocalEndPoint = connection.LocalEndPoint;
        RemoteEndPoint = connection.RemoteEndPoint;
        ConnectionClosed = _closed.Token;

        var features = new FeatureCollection();
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        features.Set<IConnectionEndPointFeature>(this);
        Features = features;
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items { get; set; } = new ConnectionItems();

    public override IDuplexPipe Transport { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Log.Aborted(_logger, ConnectionId, abortReason.Message);
        _connection.Abort();

        // Kestrel may call Abort from inside a ConnectionClosed callback or while holding its own locks: signal on
        // the thread pool, as the socket transport does, so callbacks never run inline here.
        ThreadPool.UnsafeQueueUserWorkItem(static closed => closed.Cancel(), _closed, preferLocal: false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        await _closed.CancelAsync().ConfigureAwait(false);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
