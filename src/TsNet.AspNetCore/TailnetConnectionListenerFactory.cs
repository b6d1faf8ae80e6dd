using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TsNet.AspNetCore;

/// <summary>
/// Kestrel's transport for <see cref="TailnetEndPoint"/>s: binding one starts its node (idempotent) and opens a
/// <see cref="TailnetListener"/>. Through <see cref="IConnectionListenerFactorySelector"/> it claims tailnet endpoints
/// only, and the socket transport claims none of them, so both can be registered side by side.
/// </summary>
internal sealed class TailnetConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ILogger _logger;

    public TailnetConnectionListenerFactory(ILoggerFactory? loggerFactory = null)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TsNet.AspNetCore");
    }

    public bool CanBind(EndPoint endpoint) => endpoint is TailnetEndPoint;

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not TailnetEndPoint tailnet)
        {
            throw new NotSupportedException($"The tailnet transport binds only {nameof(TailnetEndPoint)}s, not '{endpoint}'.");
        }

        await tailnet.Server.StartAsync(cancellationToken).ConfigureAwait(false);
        var listener = await tailnet.Server.ListenTcpAsync(tailnet.Port, cancellationToken).ConfigureAwait(false);
        Log.Listening(_logger, tailnet);
        return new TailnetConnectionListener(tailnet, listener, _logger);
    }
}
