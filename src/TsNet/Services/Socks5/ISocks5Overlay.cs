using System.Net;
using System.Net.Sockets;

namespace TsNet.Services.Socks5;

/// <summary>What the proxy needs from the node: every dial and every datagram goes into the overlay, never a host socket.</summary>
internal interface ISocks5Overlay
{
    /// <summary>An IP literal or a peer name (never the host's DNS).</summary>
    /// <exception cref="ArgumentException">The host is neither.</exception>
    IPEndPoint Resolve(string host, int port);

    /// <summary>True when some peer's AllowedIPs (or the node itself) covers <paramref name="address"/>.</summary>
    bool HasRoute(IPAddress address);

    ValueTask<TailnetConnection> ConnectTcpAsync(IPEndPoint remote, CancellationToken cancellationToken);

    /// <summary>
    /// After the proxy's own dial deadline: the node's no-handshake error when the peer routing
    /// <paramref name="address"/> has no session (the reply is then the one the handshake bound gives), else null.
    /// </summary>
    ValueTask<SocketException?> ExplainDialTimeoutAsync(IPAddress address, TimeSpan waited, CancellationToken cancellationToken);

    ValueTask<TailnetUdpSocket> BindUdpAsync(CancellationToken cancellationToken);
}
