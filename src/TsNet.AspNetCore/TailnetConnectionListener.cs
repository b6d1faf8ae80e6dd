using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace TsNet.AspNetCore;

/// <summary>Kestrel's view of a <see cref="TailnetListener"/>: each accepted tailnet connection becomes a <see cref="ConnectionContext"/>.</summary>
internal sealed class TailnetConnectionListener : IConnectionListener
{
    private readonly TailnetEndPoint _endPoint;
    private readonly TailnetListener _listener;
    private readonly ILogger _logger;
    private int _unbound;

    public TailnetConnectionListener(TailnetEndPoint endPoint, TailnetListener listener, ILogger logger)
    {
        _endPoint = endPoint;
        _listener = listener;
        _logger = logger;
    }

    public EndPoint EndPoint => _endPoint;

    /// <summary>The next connection; null once unbound or disposed (or once the node is disposed), which ends Kestrel's accept loop.</summary>
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _unbound) != 0)
        {
            return null;
        }

        var connection = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return null;
        }

        var context = new TailnetConnectionContext(connection, _logger);
        Log.Accepted(_logger, context.ConnectionId, connection.RemoteEndPoint);
        return context;
    }

    /// <summary>Stops accepting: the tailnet port closes and pending accepts return null. Accepted connections keep running.</summary>
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _unbound, 1) == 0)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
            Log.Unbound(_logger, _endPoint);
        }
    }

    public ValueTask DisposeAsync() => UnbindAsync();
}
