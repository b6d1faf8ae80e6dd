using System.Globalization;
using System.Text;

namespace TsNet.Tool.Http;

/// <summary>
/// Writes one response on the connection: status line and headers (always with <c>Content-Length</c>), then the
/// body through <see cref="WriteBodyAsync"/>. Decides whether the connection stays open: not when the client asked to close,
/// nor when the request body was left unread (the next bytes would not be a request head).
/// </summary>
internal sealed class HttpResponseWriter
{
    private static readonly Dictionary<int, string> s_reasons = new()
    {
        [100] = "Continue",
        [200] = "OK",
        [400] = "Bad Request",
        [403] = "Forbidden",
        [404] = "Not Found",
        [405] = "Method Not Allowed",
        [408] = "Request Timeout",
        [413] = "Content Too Large",
        [417] = "Expectation Failed",
        [431] = "Request Header Fields Too Large",
        [500] = "Internal Server Error",
        [501] = "Not Implemented",
        [505] = "HTTP Version Not Supported",
    };

    private readonly Stream _connection;
    private readonly HttpRequestHead? _request;
    private readonly HttpRequestBody? _body;
    private readonly IdleWatchdog? _watchdog;
    private readonly TimeSpan _idleTimeout;

    /// <summary>A writer for the response to <paramref name="request"/> (null when the head could not be parsed).</summary>
    /// <param name="connection">Where the response goes.</param>
    /// <param name="request">The request answered, or null.</param>
    /// <param name="body">The request's body (an unread rest means closing the connection), or null.</param>
    /// <param name="watchdog">Restarted with <paramref name="idleTimeout"/> before each write (null: none).</param>
    /// <param name="idleTimeout">How long one write may take.</param>
    public HttpResponseWriter(Stream connection, HttpRequestHead? request, HttpRequestBody? body, IdleWatchdog? watchdog = null, TimeSpan idleTimeout = default)
    {
        _connection = connection;
        _request = request;
        _body = body;
        _watchdog = watchdog;
        _idleTimeout = idleTimeout;
    }

    /// <summary>True once the head has been written.</summary>
    public bool HasStarted { get; private set; }

    /// <summary>Whether the connection carries another request after this response (valid once started).</summary>
    public bool KeepAlive { get; private set; }

    /// <summary>The status written (0 before).</summary>
    public int StatusCode { get; private set; }

    /// <summary>True when the response must not carry a body (a HEAD request).</summary>
    public bool OmitBody => _request?.Method == "HEAD";

    /// <summary>The reason phrase for a status.</summary>
    public static string ReasonPhrase(int statusCode) => s_reasons.TryGetValue(statusCode, out var reason) ? reason : "Unknown";

    /// <summary>Writes <c>HTTP/1.1 100 Continue</c> (an interim response; the final one follows).</summary>
    public async ValueTask WriteContinueAsync(CancellationToken cancellationToken)
    {
        await WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await _connection.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes body bytes after <see cref="WriteHeadAsync"/> (nothing may be written for HEAD requests).</summary>
    public ValueTask WriteBodyAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (!HasStarted)
        {
            throw new InvalidOperationException("write the response head first");
        }

        return WriteAsync(bytes, cancellationToken);
    }

    /// <summary>Flushes what was written.</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => _connection.FlushAsync(cancellationToken);

    private ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _watchdog?.Restart(_idleTimeout);
        return _connection.WriteAsync(bytes, cancellationToken);
    }

    /// <summary>Writes the status line and headers of a response with a body of <paramref name="contentLength"/> bytes.</summary>
    public async ValueTask WriteHeadAsync(int statusCode, long contentLength, string contentType, IEnumerable<KeyValuePair<string, string>>? headers, CancellationToken cancellationToken)
    {
        if (HasStarted)
        {
            throw new InvalidOperationException("the response head was already written");
        }

        HasStarted = true;
        StatusCode = statusCode;
        KeepAlive = _request is { KeepAlive: true } && (_body is null || _body.IsComplete);
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(statusCode.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(ReasonPhrase(statusCode)).Append("\r\n");
        head.Append("Server: tsnet\r\n");
        head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        head.Append("Content-Length: ").Append(contentLength.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var (name, value) in headers ?? [])
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (!KeepAlive)
        {
            head.Append("Connection: close\r\n");
        }
        else if (_request is { MinorVersion: 0 })
        {
            head.Append("Connection: keep-alive\r\n");
        }

        head.Append("\r\n");
        await WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a complete response with a small text body (plus a newline).</summary>
    public async ValueTask WriteTextAsync(int statusCode, string contentType, string text, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        var body = Encoding.UTF8.GetBytes(text + "\n");
        await WriteHeadAsync(statusCode, body.Length, contentType, headers, cancellationToken).ConfigureAwait(false);
        if (!OmitBody)
        {
            await WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }

        await _connection.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes an error response: the status and its reason phrase as plain text.</summary>
    public ValueTask WriteErrorAsync(int statusCode, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string>>? headers = null) =>
        WriteTextAsync(statusCode, "text/plain; charset=utf-8", statusCode.ToString(CultureInfo.InvariantCulture) + " " + ReasonPhrase(statusCode), cancellationToken, headers);
}
