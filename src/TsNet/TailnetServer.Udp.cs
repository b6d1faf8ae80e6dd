using System.Net;
using System.Net.Sockets;
using TsNet.Netstack;

namespace TsNet;

// UDP sockets on the tailnet.
public sealed partial class TailnetServer
{
    /// <summary>
    /// Binds a UDP socket to <paramref name="port"/> on every overlay address of the node (0: a free port from the
    /// ephemeral range 49152–65535). Disposing the node disposes its sockets.
    /// </summary>
    /// <param name="port">The port, 0–65535.</param>
    /// <param name="cancellationToken">Cancels the bind; a cancelled bind leaves nothing bound.</param>
    /// <returns>The bound socket; its <see cref="TailnetUdpSocket.LocalEndPoint"/> names the port actually bound.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0–65535.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.AddressAlreadyInUse"/>: another socket of the node holds
    /// the port (or no ephemeral port is free).</exception>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    /// <exception cref="ObjectDisposedException">The node is disposed.</exception>
    public async ValueTask<TailnetUdpSocket> BindUdpAsync(int port, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        var (_, netstack) = Started();
        var handle = await netstack.BindUdpAsync(localAddress: null, port, cancellationToken).ConfigureAwait(false);
        handle.RouteCheck = UdpSendError;
        return new TailnetUdpSocket(handle, new IPEndPoint(PreferredLocalAddress(), handle.LocalPort));
    }

    /// <summary>Test hook: the started node's netstack loop (UDP and ICMP error counters).</summary>
    internal NetstackLoop Netstack => Started().netstack;

    /// <summary>The address a socket bound to all addresses reports: the first IPv4 address, else the first IPv6 one.</summary>
    private IPAddress PreferredLocalAddress() =>
        _addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
        ?? _addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6)
        ?? IPAddress.Any;
}
