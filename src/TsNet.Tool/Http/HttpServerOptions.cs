namespace TsNet.Tool.Http;

/// <summary>Limits of the tool's HTTP/1.1 server.</summary>
internal sealed record HttpServerOptions
{
    /// <summary>
    /// Largest request head (request line + headers) in bytes; larger is answered 431. 16 KiB holds any head curl or
    /// HttpClient sends while bounding what one connection can make the server buffer.
    /// </summary>
    public int MaxHeadBytes { get; init; } = 16 * 1024;

    /// <summary>
    /// How long a connection may take to deliver a complete request head, including idle time between keep-alive
    /// requests; then it is closed. Bounds what a silent client holds.
    /// </summary>
    public TimeSpan HeadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a request body read or a response write may make no progress before the connection is closed. Each
    /// chunk of progress restarts it, so only a stalled peer (not a slow one) hits it.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Buffer size for streaming files and request bodies (never a whole body in memory).</summary>
    public int BufferBytes { get; init; } = 64 * 1024;
}
