using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using TsNet.AspNetCore;
using TsNet.Tool.Hosting;
using TsNet.Tool.Services;

namespace TsNet.Tool.Http;

/// <summary>
/// The tool's HTTP server on a tailnet TCP port: Kestrel through <c>UseTailnet</c> (no host socket) serving the
/// <see cref="FileAndSinkSite"/>. Disposing stops it, giving requests in flight <see cref="ToolKestrel.StopGrace"/>.
/// </summary>
internal sealed class TailnetHttpService : ITailnetService
{
    /// <summary>
    /// Largest request line, and largest header block, in bytes; larger is answered 414 or 431. 16 KiB holds any head
    /// curl or HttpClient sends while bounding what one connection can make the server buffer.
    /// </summary>
    public const int MaxHeadBytes = 16 * 1024;

    /// <summary>
    /// How long a connection may take to deliver a complete request head, and how long it may sit idle between
    /// keep-alive requests; then it is closed. Bounds what a silent client holds.
    /// </summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(30);

    private readonly ToolKestrel _server;
    private int _disposed;

    private TailnetHttpService(ToolKestrel server, int port)
    {
        _server = server;
        Description = $"http on tcp/{port}";
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>Serves <paramref name="www"/> and the sink on <paramref name="port"/> of <paramref name="node"/>.</summary>
    /// <exception cref="InvalidOperationException">The tailnet port is taken.</exception>
    public static async Task<TailnetHttpService> StartAsync(TailnetServer node, int port, string www, ILoggerFactory loggerFactory, bool verbose, CancellationToken cancellationToken)
    {
        var server = await ToolKestrel.StartAsync(
            loggerFactory,
            verbose,
            // HTTP/1.1 only, as the CLI documents (`--http`): the native binary leaves Kestrel's HTTP/2 out (NativeAot.Substitutions.xml).
            builder => builder.UseTailnet(node, port, static listen => listen.Protocols = HttpProtocols.Http1),
            options => ApplyLimits(options.Limits),
            FileAndSinkSite.Create(new WwwDirectory(www)),
            cancellationToken).ConfigureAwait(false);
        return new TailnetHttpService(server, port);
    }

    /// <summary>The limits the server runs with.</summary>
    internal static void ApplyLimits(KestrelServerLimits limits)
    {
        limits.MaxRequestLineSize = MaxHeadBytes;
        limits.MaxRequestHeadersTotalSize = MaxHeadBytes;
        limits.RequestHeadersTimeout = HeadTimeout;
        limits.KeepAliveTimeout = HeadTimeout;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
