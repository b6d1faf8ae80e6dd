using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.Services.Socks5;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>socks5</c>: the proxy's negotiation (greeting, RFC 1929 authentication, request with IPv4/IPv6/domain address)
/// as <see cref="Socks5Session"/> reads it from a real loopback connection: the input is what the client sends before
/// closing its side. The overlay behind it resolves only literal addresses and refuses every dial, so sessions end in
/// a reply or a close. A finding is an exception escaping the session (logged as <c>SessionFailed</c>) or a session
/// still open after the client closed. The UDP relay header parser sees every input too.
/// </summary>
internal sealed class Socks5Target : IFuzzTarget, IDisposable
{
    private static readonly byte[] s_login = [1, 4, .. "user"u8, 4, .. "pass"u8];

    private readonly Socket _listener;
    private readonly FailureLogger _logger = new();
    private readonly Socks5Context _context;
    private readonly byte[] _sink = new byte[4096];
    private long _replies;

    public Socks5Target()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        _context = new Socks5Context(new RefusingOverlay(), new Socks5Credentials("user", "pass"), IPAddress.Loopback,
            TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), TimeProvider.System, _logger);
        byte[] Request(byte command, byte[] address) => [5, 1, 2, .. s_login, 5, command, 0, .. address];
        Corpus =
        [
            Request(1, [1, 100, 64, 0, 2, 0, 80]),
            Request(1, [3, 20, .. "peer.tailnet.example"u8, 1, 187]),
            Request(1, [4, 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x1F, 0x90]),
            Request(3, [1, 0, 0, 0, 0, 0, 0]),
            Request(2, [1, 127, 0, 0, 1, 0, 22]),
            Request(1, [3, 9, .. "100.64.0."u8, 0, 80]),
            [5, 2, 0, 2, 1, 4, .. "user"u8, 4, .. "word"u8, 5, 1, 0, 1, 1, 2, 3, 4, 0, 80],
            [0, 3, 0, 1, 100, 64, 0, 2, 0, 53, .. "dns query"u8],
            [0, 0, 0, 3, 4, .. "host"u8, 1, 0, .. "payload"u8],
            [0, 0, 0, 4, 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 53],
        ];
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 1024;

    public string Describe() => $"sessions that wrote a reply byte {_replies}";

    public void Execute(byte[] input)
    {
        if (Socks5UdpHeader.TryParse(input, out var header) && (header.PayloadOffset > input.Length || header.PayloadOffset < 4))
        {
            throw new FuzzInvariantException($"UDP header payload offset {header.PayloadOffset} outside a {input.Length}-byte datagram");
        }

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(_listener.LocalEndPoint!);
        var accepted = _listener.Accept();
        _logger.Failure = null;
        var session = Socks5Session.RunAsync(accepted, _context, CancellationToken.None, CancellationToken.None);
        client.Send(input);
        client.Shutdown(SocketShutdown.Send);
        client.ReceiveTimeout = 20_000;
        try
        {
            int read;
            while ((read = client.Receive(_sink)) > 0)
            {
                _replies += read > 0 ? 1 : 0;
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // A close with unread data is a reset: still a closed session.
        }

        if (!session.Wait(TimeSpan.FromSeconds(20)))
        {
            throw new FuzzInvariantException("the session did not end after the client closed");
        }

        if (_logger.Failure is { } failure)
        {
            throw new FuzzInvariantException("SessionFailed: " + failure);
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Keeps the exception of a Warning or worse (SessionFailed is the only one a session logs).</summary>
    private sealed class FailureLogger : ILogger
    {
        public volatile string? Failure;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning)
            {
                Failure = $"{formatter(state, exception)}: {exception}";
            }
        }
    }

    private sealed class RefusingOverlay : ISocks5Overlay
    {
        public IPEndPoint Resolve(string host, int port) =>
            IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : throw new ArgumentException($"no such host {host}");

        public bool HasRoute(IPAddress address) => !IPAddress.IsLoopback(address);

        public ValueTask<TailnetConnection> ConnectTcpAsync(IPEndPoint remote, CancellationToken cancellationToken) =>
            ValueTask.FromException<TailnetConnection>(new SocketException((int)SocketError.ConnectionRefused));

        public ValueTask<SocketException?> ExplainDialTimeoutAsync(IPAddress address, TimeSpan waited, CancellationToken cancellationToken) =>
            ValueTask.FromResult<SocketException?>(null);

        public ValueTask<TailnetUdpSocket> BindUdpAsync(CancellationToken cancellationToken) =>
            ValueTask.FromException<TailnetUdpSocket>(new InvalidOperationException("no UDP in the fuzz overlay"));
    }
}
