using Microsoft.Extensions.Logging;
using TsNet.Tool.Services;

namespace TsNet.Tool.Http;

/// <summary>The tool's HTTP/1.1 server on a tailnet TCP port (one <see cref="HttpConnectionHandler"/> per connection).</summary>
internal static class TailnetHttpServer
{
    /// <summary>Serves <paramref name="site"/> on <paramref name="port"/> of <paramref name="node"/> until disposed.</summary>
    public static Task<TcpListenerService> StartAsync(TailnetServer node, int port, FileAndSinkSite site, HttpServerOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var handler = new HttpConnectionHandler(site, options, logger);
        return TcpListenerService.StartAsync(
            node,
            port,
            "http",
            (connection, ct) => handler.HandleAsync(connection, connection.RemoteEndPoint.ToString(), ct),
            logger,
            cancellationToken);
    }
}
