using System.Net;

namespace TsNet.Control.Transport;

/// <summary>
/// A ts2021 control session: HTTP/2 with prior knowledge over the Noise stream (protocol doc §7), through a
/// <see cref="SocketsHttpHandler"/> whose <c>ConnectCallback</c> hands out the Noise connection.
/// </summary>
/// <remarks>
/// <para>The first HTTP/2 connection is the one <see cref="ConnectAsync"/> established (so a refused handshake
/// fails there, not on the first request). HTTP/2 multiplexes every request (register, map polls) over it; the
/// handler opens no second connection while it lives (<c>EnableMultipleHttp2Connections</c> is off, idle and
/// lifetime limits are infinite). If the server closes it, the handler's next request calls the callback again,
/// which dials and handshakes anew: a new Noise session per new connection, as the Go client redials.
/// <see cref="Connections"/> counts them; <see cref="GetEarlyPayloadAsync"/> answers for the latest connection.</para>
/// <para>Request URLs use <c>http://</c> (the scheme is cosmetic to the server but makes the handler speak h2c);
/// <see cref="SendAsync"/> forces HTTP/2 exactly on every request.</para>
/// </remarks>
internal sealed class ControlConnection : IAsyncDisposable
{
    private readonly ControlConnectionOptions _options;
    private readonly SocketsHttpHandler _handler;
    private ControlNoiseStream? _firstStream;
    private ControlNoiseStream _latestStream;
    private int _connections;
    private int _disposed;

    private ControlConnection(ControlConnectionOptions options, ControlDialer.Result first)
    {
        _options = options;
        _firstStream = first.Stream;
        Session = first.Stream.Keys;
        _latestStream = first.Stream;
        _connections = 1;
        _handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectCallbackAsync,
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        var builder = new UriBuilder(Uri.UriSchemeHttp, options.ServerUrl.IdnHost, options.ServerUrl.Port);
        HttpClient = new HttpClient(_handler, disposeHandler: false)
        {
            BaseAddress = builder.Uri,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // Map polls are long-lived streams; callers bound each request with their own token.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>An HttpClient bound to the Noise channel (relative URLs such as <c>/machine/register</c>).</summary>
    /// <remarks>Its convenience methods use HTTP/2; a hand-built <see cref="HttpRequestMessage"/> must go through <see cref="SendAsync"/>.</remarks>
    public HttpClient HttpClient { get; }

    /// <summary>The first session's keys: the server's public key (<see cref="ControlSessionKeys.Peer"/>), handshake hash, version.</summary>
    public ControlSessionKeys Session { get; }

    /// <summary>The server's Noise public key.</summary>
    public MachinePublicKey ServerPublicKey => Session.Peer;

    /// <summary>
    /// What the server sent before HTTP/2 on the latest connection, or null (the Go test server sends none).
    /// It is read with the connection's first read, so it completes once the first request has been answered.
    /// </summary>
    public Task<ControlEarlyPayload?> GetEarlyPayloadAsync(CancellationToken cancellationToken = default)
        => Volatile.Read(ref _latestStream).EarlyPayload.WaitAsync(cancellationToken);

    /// <summary>Noise connections made so far (1 unless the server closed one and a request redialed).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Dials, upgrades and handshakes; the returned connection is ready for HTTP/2 requests.</summary>
    /// <exception cref="ControlTransportException">The server refused the upgrade or handshake, or broke the protocol.</exception>
    /// <exception cref="TimeoutException">Not connected within <see cref="ControlConnectionOptions.ConnectTimeout"/>.</exception>
    public static async Task<ControlConnection> ConnectAsync(ControlConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ControlDialer.Result first = await ControlDialer.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        return new ControlConnection(options, first);
    }

    /// <summary>Sends <paramref name="request"/> as HTTP/2 over the Noise channel (a relative URI is resolved against the server).</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completionOption = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        return HttpClient.SendAsync(request, completionOption, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        HttpClient.Dispose();
        _handler.Dispose();
        if (Interlocked.Exchange(ref _firstStream, null) is { } unused)
        {
            await unused.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<Stream> ConnectCallbackAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _firstStream, null) is { } first)
        {
            return first;
        }

        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ControlDialer.Result next = await ControlDialer.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _connections);
        Volatile.Write(ref _latestStream, next.Stream);
        return next.Stream;
    }
}
