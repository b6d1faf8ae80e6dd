using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.Tool.Http;

namespace TsNet.Tool.RelayApi;

/// <summary>
/// A minimal HTTP/1.1 server for the relay allocation endpoint (<see cref="RelayAllocationHandler"/>) on a host TCP
/// listener (loopback: the caller checks). One request per connection, answered with <c>Content-Length</c> and
/// <c>Connection: close</c>; the head is bounded to <see cref="MaxHeadBytes"/>, the body to
/// <see cref="RelayAllocationHandler.MaxBodyBytes"/>, a whole exchange to <see cref="RequestTimeout"/>, and at most
/// <see cref="MaxConnections"/> connections are served at once (more are closed at once).
/// </summary>
internal sealed class RelayAllocationServer : IAsyncDisposable
{
    /// <summary>Largest request head: an allocation request's head is a few hundred bytes; curl's and Go's fit easily.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    /// <summary>Connections served at once: allocations are instantaneous, so more than this means clients that stall.</summary>
    public const int MaxConnections = 32;

    /// <summary>How long one connection may take from accept to the end of the response; bounds what a silent client holds.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    // After answering, unread request bytes (a body too large or never wanted) are read and dropped for a moment
    // before closing: closing with unread bytes sends a reset, which may destroy the response in the client's buffer.
    private static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(1);
    private const long MaxLingerBytes = 64 * 1024;

    private readonly Socket _listener;
    private readonly RelayAllocationHandler _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<Task> _connections = [];
    private readonly Lock _gate = new();
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _disposeTask;

    private RelayAllocationServer(Socket listener, RelayAllocationHandler handler, ILogger logger)
    {
        _listener = listener;
        _handler = handler;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
    }

    /// <summary>The bound address (the actual port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Binds <paramref name="endPoint"/> and starts accepting.</summary>
    /// <exception cref="SocketException">The address could not be bound (e.g. the port is in use).</exception>
    public static RelayAllocationServer Start(IPEndPoint endPoint, RelayAllocationHandler handler, ILogger logger)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(endPoint);
            listener.Listen(MaxConnections);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var server = new RelayAllocationServer(listener, handler, logger);
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        RelayApiLog.Listening(logger, server.LocalEndPoint.ToString());
        return server;
    }

    /// <summary>Stops accepting, cancels open exchanges and waits for them. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        Task disposal;
        lock (_gate)
        {
            _disposeTask ??= DisposeCoreAsync();
            disposal = _disposeTask;
        }

        await disposal.ConfigureAwait(false);
    }

    private async Task DisposeCoreAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] open;
        lock (_gate)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || token.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // E.g. out of file descriptors: back off instead of spinning on the same error.
                RelayApiLog.AcceptFailed(_logger, e);
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            lock (_gate)
            {
                _connections.RemoveWhere(t => t.IsCompleted);
                if (_connections.Count >= MaxConnections)
                {
                    RelayApiLog.TooManyConnections(_logger, socket.RemoteEndPoint?.ToString() ?? "?", MaxConnections);
                    socket.Dispose();
                    continue;
                }

                _connections.Add(Task.Run(() => ServeAsync(socket, token), CancellationToken.None));
            }
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken stopping)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(RequestTimeout);
        var stream = new NetworkStream(socket, ownsSocket: true);
        await using (stream.ConfigureAwait(false))
        {
            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
            try
            {
                if (await ServeRequestAsync(stream, reader, remote, deadline.Token).ConfigureAwait(false))
                {
                    socket.Shutdown(SocketShutdown.Send);
                    await LingerAsync(reader, stopping).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                RelayApiLog.ConnectionEnded(_logger, remote, e.Message);
            }
            finally
            {
                await reader.CompleteAsync().ConfigureAwait(false);
            }
        }
    }

    // Returns true when a response was written (false: the client closed before sending a request).
    private async Task<bool> ServeRequestAsync(NetworkStream stream, PipeReader reader, string remote, CancellationToken cancellationToken)
    {
        HttpRequestHead? head;
        try
        {
            head = await ReadHeadAsync(reader, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestRejectedException e)
        {
            RelayApiLog.BadRequest(_logger, remote, e.StatusCode, e.Message);
            await WriteAsync(new HttpResponseWriter(stream, null, null), RelayAllocationResponse.Error(e.StatusCode, e.Message), cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (head is null)
        {
            return false;
        }

        // Connection: close on every answer; the writer says so when the request does not ask to keep the connection.
        var writer = new HttpResponseWriter(stream, head with { KeepAlive = false }, null);
        var response = RelayAllocationHandler.CheckRequestLine(head.Method, head.Target)
            ?? await ReadAndAllocateAsync(reader, head, writer, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != 200)
        {
            RelayApiLog.BadRequest(_logger, remote, response.StatusCode, System.Text.Encoding.UTF8.GetString(response.Body).TrimEnd());
        }

        await WriteAsync(writer, response, cancellationToken).ConfigureAwait(false);
        RelayApiLog.Request(_logger, remote, head.Method, head.Target, response.StatusCode);
        return true;
    }

    private async Task<RelayAllocationResponse> ReadAndAllocateAsync(PipeReader reader, HttpRequestHead head, HttpResponseWriter writer, CancellationToken cancellationToken)
    {
        const int limit = RelayAllocationHandler.MaxBodyBytes;
        if (head.ContentLength > limit)
        {
            // Refused before "100 Continue": a client that waits for it never sends the body.
            return RelayAllocationResponse.Error(413, $"request body larger than {limit} bytes");
        }

        var body = new HttpRequestBody(reader, head, MaxHeadBytes, writer.WriteContinueAsync);
        var buffer = new byte[limit + 1];
        int length = 0;
        try
        {
            while (length < buffer.Length)
            {
                int read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch (HttpRequestRejectedException e)
        {
            return RelayAllocationResponse.Error(e.StatusCode, e.Message);
        }

        return _handler.Allocate(buffer.AsSpan(0, length));
    }

    private static async Task WriteAsync(HttpResponseWriter writer, RelayAllocationResponse response, CancellationToken cancellationToken)
    {
        await writer.WriteHeadAsync(response.StatusCode, response.Body.Length, response.ContentType, response.Headers, cancellationToken).ConfigureAwait(false);
        if (!writer.OmitBody)
        {
            await writer.WriteBodyAsync(response.Body, cancellationToken).ConfigureAwait(false);
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    // The request head, or null when the client closed without sending one.
    private static async Task<HttpRequestHead?> ReadHeadAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (HttpHeadParser.TryParse(buffer, MaxHeadBytes, out var head, out var consumed))
            {
                reader.AdvanceTo(consumed);
                return head;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return buffer.IsEmpty ? null : throw new HttpRequestRejectedException("connection closed inside the request head");
            }
        }
    }

    private static async Task LingerAsync(PipeReader reader, CancellationToken stopping)
    {
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        linger.CancelAfter(LingerTimeout);
        long dropped = 0;
        while (dropped <= MaxLingerBytes)
        {
            var result = await reader.ReadAsync(linger.Token).ConfigureAwait(false);
            dropped += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
