using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace TsNet.AspNetCore;

/// <summary>
/// One tailnet TCP connection as Kestrel sees it: the transport is the connection's pipe view, its input adapted to
/// what Kestrel expects of a transport after a peer's reset (see <see cref="ResetTranslatingPipeReader"/>; the output
/// already reports a failed connection as completed); abort resets it (RST), dispose closes it (FIN after what Kestrel
/// wrote). <see cref="ConnectionClosed"/> is the connection's own signal: it fires when the peer's FIN or RST arrives
/// even while nobody reads, so Kestrel can abort the request (<c>HttpContext.RequestAborted</c>), as with the socket
/// transport. The context is also its own connection features, as Kestrel's socket transport does.
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
    private int _disposed;

    public TailnetConnectionContext(TailnetConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
        ConnectionId = string.Create(CultureInfo.InvariantCulture, $"{s_idPrefix}:{Interlocked.Increment(ref s_lastId):X8}");
        Transport = new DuplexPipe(new ResetTranslatingPipeReader(connection.Transport.Input), connection.Transport.Output);
        LocalEndPoint = connection.LocalEndPoint;
        RemoteEndPoint = connection.RemoteEndPoint;
        ConnectionClosed = connection.ConnectionClosed;

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
        // Kestrel passes null (despite the signature) when it aborts because the peer closed the connection.
        Log.Aborted(_logger, ConnectionId, abortReason?.Message ?? "the peer closed the connection");

        // Also fires ConnectionClosed, on the thread pool: Kestrel may call Abort from inside a ConnectionClosed
        // callback or while holding its own locks, so callbacks never run inline here.
        _connection.Abort();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
