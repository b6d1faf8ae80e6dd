using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using TsNet.Services.Socks5;

namespace TsNet;

// The loopback SOCKS5 proxy (Go tsnet's Loopback()): local programs reach the tailnet through 127.0.0.1 or ::1.
public sealed partial class TailnetServer
{
    /// <summary>Random bytes in a generated proxy password (shown as twice as many lowercase hex characters), as tsnet does.</summary>
    private const int ProxyPasswordBytes = 16;

    /// <summary>
    /// Starts a SOCKS5 proxy on a loopback address (default <c>127.0.0.1</c>, ephemeral port) that dials every CONNECT
    /// into the tailnet (IP literals and peer names; never the host's DNS or a host socket toward the target) and relays
    /// UDP ASSOCIATE datagrams into it. Clients authenticate as <see cref="LoopbackProxy.Username"/> with
    /// <see cref="LoopbackProxy.Password"/>. Each call starts an independent proxy; the node's disposal stops them all.
    /// </summary>
    /// <param name="options">Address, port, password, deadlines and the connection cap; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running proxy; dispose it to stop accepting.</returns>
    /// <exception cref="ArgumentException">The options name a non-loopback address or an invalid password.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timeout or the connection cap is out of range.</exception>
    /// <exception cref="SocketException">The port could not be bound (e.g. already in use).</exception>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    /// <exception cref="ObjectDisposedException">The node is disposed.</exception>
    public ValueTask<LoopbackProxy> StartLoopbackProxyAsync(LoopbackProxyOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LoopbackProxyOptions();
        var endPoint = options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        Started();
        var password = options.Password ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(ProxyPasswordBytes));
        var context = new Socks5Context(
            new Socks5Overlay(this),
            new Socks5Credentials(LoopbackProxy.DefaultUsername, password),
            endPoint.Address,
            options.NegotiationTimeout,
            options.DialTimeout,
            _options.TimeProvider,
            _options.LoggerFactory.CreateLogger("TsNet.Socks5"));

        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(endPoint);
            listener.Listen();
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var proxy = new LoopbackProxy(listener, password, context, options.MaxConnections, _disposing.Token);
        _background.Track(proxy.Completion);
        return ValueTask.FromResult(proxy);
    }

    /// <summary>True when <paramref name="address"/> is one of ours or inside some peer's AllowedIPs.</summary>
    internal bool HasOverlayRoute(IPAddress address) =>
        Volatile.Read(ref _addresses).Contains(address) || _registry.Current.FindByAddress(address) is not null;

    /// <summary>The node as the proxy sees it: overlay dials and sockets only.</summary>
    private sealed class Socks5Overlay(TailnetServer server) : ISocks5Overlay
    {
        public IPEndPoint Resolve(string host, int port) => server.ResolveDialTarget(host, port);

        public bool HasRoute(IPAddress address) => server.HasOverlayRoute(address);

        public ValueTask<TailnetConnection> ConnectTcpAsync(IPEndPoint remote, CancellationToken cancellationToken) =>
            server.ConnectTcpAsync(remote, cancellationToken);

        public ValueTask<SocketException?> ExplainDialTimeoutAsync(IPAddress address, TimeSpan waited, CancellationToken cancellationToken) =>
            server.ExplainDialTimeoutAsync(address, waited, cancellationToken);

        public ValueTask<TailnetUdpSocket> BindUdpAsync(CancellationToken cancellationToken) => server.BindUdpAsync(0, cancellationToken);
    }
}
