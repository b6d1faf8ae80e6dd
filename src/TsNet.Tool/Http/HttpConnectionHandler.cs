using System.IO.Pipelines;
using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Http;

/// <summary>
/// Serves HTTP/1.1 on one connection: reads a head (bounded in size and time), hands it with its body to the
/// <see cref="FileAndSinkSite"/>, and repeats while the connection is kept alive. A malformed request gets its error
/// status and the connection is closed; so is a connection that makes no progress for
/// <see cref="HttpServerOptions.HeadTimeout"/> (waiting for a head) or <see cref="HttpServerOptions.IdleTimeout"/> (in a
/// request).
/// </summary>
internal sealed class HttpConnectionHandler
{
    // A body the site has no use for (a GET with a body, a PUT to a file) is read and dropped up front when it is at
    // most this long, so the connection can carry the next request; a longer one is left unread and the connection
    // closes after the response.
    private const long MaxDrainBytes = 64 * 1024;

    private readonly FileAndSinkSite _site;
    private readonly HttpServerOptions _options;
    private readonly ILogger _logger;

    /// <summary>A handler serving <paramref name="site"/> within <paramref name="options"/>' limits.</summary>
    public HttpConnectionHandler(FileAndSinkSite site, HttpServerOptions options, ILogger logger)
    {
        _site = site;
        _options = options;
        _logger = logger;
    }

    /// <summary>Serves requests on <paramref name="connection"/> until the client closes, asks to close, errs, stalls, or the token fires.</summary>
    public async Task HandleAsync(Stream connection, string remote, CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(connection, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        using var watchdog = new IdleWatchdog(cancellationToken);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                HttpRequestHead? head;
                try
                {
                    watchdog.Restart(_options.HeadTimeout);
                    head = await ReadHeadAsync(reader, _options.MaxHeadBytes, watchdog.Token).ConfigureAwait(false);
                }
                catch (HttpRequestRejectedException e)
                {
                    HttpLog.BadRequest(_logger, remote, e.StatusCode, e.Message);
                    await new HttpResponseWriter(connection, null, null, watchdog, _options.IdleTimeout).WriteErrorAsync(e.StatusCode, watchdog.Token).ConfigureAwait(false);
                    return;
                }

                if (head is null)
                {
                    return;
                }

                if (!await HandleRequestAsync(connection, reader, head, remote, watchdog).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (watchdog.Expired)
        {
            HttpLog.IdleTimeout(_logger, remote);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            HttpLog.ConnectionEnded(_logger, remote, e.Message);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    // Returns true when the connection may carry another request.
    private async Task<bool> HandleRequestAsync(Stream connection, PipeReader reader, HttpRequestHead head, string remote, IdleWatchdog watchdog)
    {
        HttpResponseWriter? response = null;
        var body = new HttpRequestBody(reader, head, _options.MaxHeadBytes, ct => response!.WriteContinueAsync(ct), watchdog, _options.IdleTimeout);
        response = new HttpResponseWriter(connection, head, body, watchdog, _options.IdleTimeout);
        var cancellationToken = watchdog.Token;
        try
        {
            // A small unread body (a GET with a body, a PUT to a file) is dropped so the connection can be kept;
            // never when the client still waits for "100 Continue": it might then not send the body at all.
            if (head.HasBody && !head.ExpectContinue && head.ContentLength is <= MaxDrainBytes && !IsSink(head))
            {
                await body.TryDrainAsync(MaxDrainBytes, cancellationToken).ConfigureAwait(false);
            }

            await _site.HandleAsync(head, body, response, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestRejectedException e)
        {
            HttpLog.BadRequest(_logger, remote, e.StatusCode, e.Message);
            if (!response.HasStarted)
            {
                await response.WriteErrorAsync(e.StatusCode, cancellationToken).ConfigureAwait(false);
            }

            return false;
        }

        HttpLog.Request(_logger, remote, head.Method, head.Target, response.StatusCode);
        return response.KeepAlive;
    }

    private static bool IsSink(HttpRequestHead head) => head.Target.Split('?', 2)[0] == FileAndSinkSite.SinkPath;

    // The next request head, or null when the client closed the connection cleanly between requests.
    private static async Task<HttpRequestHead?> ReadHeadAsync(PipeReader reader, int maxHeadBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (HttpHeadParser.TryParse(buffer, maxHeadBytes, out var head, out var consumed))
            {
                reader.AdvanceTo(consumed);
                return head;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return buffer.IsEmpty || IsOnlyLineBreaks(buffer) ? null : throw new HttpRequestRejectedException("connection closed inside the request head");
            }
        }
    }

    private static bool IsOnlyLineBreaks(System.Buffers.ReadOnlySequence<byte> buffer)
    {
        foreach (var segment in buffer)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)'\r' or (byte)'\n'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
