using System.Net;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using TsNet.Tool.Hosting;

namespace TsNet.Tool.RelayApi;

/// <summary>
/// The relay allocation endpoint (<see cref="RelayAllocationHandler"/>) on Kestrel, on a host TCP listener (loopback:
/// the caller checks). One request per connection (every answer says <c>Connection: close</c>); the head is bounded
/// to <see cref="MaxHeadBytes"/>, the body to <see cref="RelayAllocationHandler.MaxBodyBytes"/>, the head and the
/// body to <see cref="RequestTimeout"/> each, and at most <see cref="MaxConnections"/> connections are served at once
/// (Kestrel closes more at once and logs a warning).
/// </summary>
internal sealed class RelayAllocationServer : IAsyncDisposable
{
    /// <summary>Largest request line and header block: an allocation request's head is a few hundred bytes.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    /// <summary>Connections served at once: allocations are instantaneous, so more than this means clients that stall.</summary>
    public const int MaxConnections = 32;

    /// <summary>How long a client may take to send the head, and then the body; bounds what a silent client holds.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    // Unread request bytes dropped before answering, at most (beyond, the connection may end with a reset).
    private const int MaxDrainBytes = 64 * 1024;

    private ToolKestrel? _server;
    private readonly RelayAllocationHandler _handler;
    private readonly ILogger _logger;
    private int _disposed;

    private RelayAllocationServer(RelayAllocationHandler handler, ILogger logger)
    {
        _handler = handler;
        _logger = logger;
    }

    /// <summary>The bound address (the actual port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>Binds <paramref name="endPoint"/> and starts serving.</summary>
    /// <exception cref="IOException">The address could not be bound (e.g. the port is in use).</exception>
    public static async Task<RelayAllocationServer> StartAsync(IPEndPoint endPoint, RelayAllocationHandler handler, ILoggerFactory loggerFactory, bool verbose, CancellationToken cancellationToken)
    {
        var server = new RelayAllocationServer(handler, loggerFactory.CreateLogger("TsNet.Tool.RelayApi"));
        server._server = await ToolKestrel.StartAsync(
            loggerFactory,
            verbose,
            static _ => { },
            options =>
            {
                // HTTP/1.1 only (the allocation API's clients speak it): the native binary leaves Kestrel's HTTP/2 out.
                options.Listen(endPoint, static listen => listen.Protocols = HttpProtocols.Http1);
                ApplyLimits(options.Limits);
            },
            server.ServeAsync,
            cancellationToken).ConfigureAwait(false);
        var bound = server._server.Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var uri = new Uri(bound);
        server.LocalEndPoint = new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
        RelayApiLog.Listening(server._logger, server.LocalEndPoint.ToString());
        return server;
    }

    /// <summary>Stops serving: open exchanges get <see cref="ToolKestrel.StopGrace"/>, then their connections are aborted. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void ApplyLimits(KestrelServerLimits limits)
    {
        limits.MaxConcurrentConnections = MaxConnections;
        limits.MaxRequestLineSize = MaxHeadBytes;
        limits.MaxRequestHeadersTotalSize = MaxHeadBytes;
        limits.RequestHeadersTimeout = RequestTimeout;
        limits.KeepAliveTimeout = RequestTimeout;
    }

    private async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var remote = context.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, context.Connection.RemotePort).ToString() : "?";
        RelayAllocationResponse response;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            deadline.CancelAfter(RequestTimeout);
            try
            {
                var refused = RelayAllocationHandler.CheckRequestLine(request.Method, request.Path.Value ?? "/") ?? RefuseLargeBody(request);
                response = refused ?? await ReadAndAllocateAsync(request, deadline.Token).ConfigureAwait(false);

                // Unread request bytes (a body too large or never wanted) are read and dropped before answering:
                // closing with unread bytes sends a reset, which may destroy the response in the client's buffer.
                // Not when the client still waits for "100 Continue": it sends no body then, and a read would invite it.
                if (refused is null || !request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase))
                {
                    await DrainAsync(request, deadline.Token).ConfigureAwait(false);
                }
                else if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                {
                    // Kestrel itself would wait for the unread body before closing; a zero limit makes it close at once.
                    limit.MaxRequestBodySize = 0;
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The client went away, stalled past the deadline, or sent a malformed body (Kestrel's
                // BadHttpRequestException is an IOException): end the connection without an answer.
                RelayApiLog.ConnectionEnded(_logger, remote, e.Message);
                context.Abort();
                return;
            }
        }

        if (response.StatusCode != StatusCodes.Status200OK)
        {
            RelayApiLog.BadRequest(_logger, remote, response.StatusCode, System.Text.Encoding.UTF8.GetString(response.Body).TrimEnd());
        }

        var answer = context.Response;
        answer.StatusCode = response.StatusCode;
        answer.ContentType = response.ContentType;
        answer.ContentLength = response.Body.Length;
        answer.Headers.Connection = "close";
        foreach (var (name, value) in response.Headers)
        {
            answer.Headers[name] = value;
        }

        if (!HttpMethods.IsHead(request.Method))
        {
            await answer.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
        }

        RelayApiLog.Request(_logger, remote, request.Method, request.Path.Value ?? "/", response.StatusCode);
    }

    // A body announced too large is refused before "100 Continue" (Kestrel sends it on the first body read).
    private static RelayAllocationResponse? RefuseLargeBody(HttpRequest request) =>
        request.ContentLength > RelayAllocationHandler.MaxBodyBytes
            ? RelayAllocationResponse.Error(StatusCodes.Status413PayloadTooLarge, $"request body larger than {RelayAllocationHandler.MaxBodyBytes} bytes")
            : null;

    private async Task<RelayAllocationResponse> ReadAndAllocateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new byte[RelayAllocationHandler.MaxBodyBytes + 1];
        var length = await request.Body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return _handler.Allocate(buffer.AsSpan(0, length));
    }

    private static async Task DrainAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        long dropped = 0;
        while (dropped <= MaxDrainBytes)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            dropped += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
