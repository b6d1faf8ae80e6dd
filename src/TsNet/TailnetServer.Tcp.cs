using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet;

// TCP and UDP-free dialing surface of the facade: listeners, outbound connections, and name resolution for dials.
public sealed partial class TailnetServer
{
    /// <summary>Listens for TCP connections on <paramref name="port"/> on all of the node's overlay addresses.</summary>
    /// <exception cref="InvalidOperationException">The port already has a listener, or the node is not started.</exception>
    public async ValueTask<TailnetListener> ListenTcpAsync(int port, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var (_, netstack) = Started();
        var entry = await netstack.ListenTcpAsync(port, cancellationToken).ConfigureAwait(false);
        return new TailnetListener(netstack, entry, new IPEndPoint(_addresses[0], port));
    }

    /// <summary>
    /// Opens a TCP connection to <paramref name="hostAndPort"/>: <c>100.64.0.1:80</c>, <c>[fd7a::1]:80</c>, or a peer
    /// name from the configuration such as <c>db:5432</c>. Names never fall back to the host's DNS.
    /// </summary>
    /// <exception cref="ArgumentException">Not host:port, or the host is neither an IP literal nor a peer name.</exception>
    /// <exception cref="SocketException">Refused, timed out or reset.</exception>
    public ValueTask<TailnetConnection> ConnectTcpAsync(string hostAndPort, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hostAndPort);
        return ConnectTcpAsync(ResolveDialTarget(hostAndPort), cancellationToken);
    }

    /// <summary>Opens a TCP connection to <paramref name="remote"/> over the tailnet.</summary>
    /// <exception cref="SocketException">Refused (RST), timed out (no answer to SYN retries) or reset.</exception>
    public async ValueTask<TailnetConnection> ConnectTcpAsync(IPEndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var (_, netstack) = Started();
        var channel = await netstack.ConnectTcpAsync(remote, cancellationToken).ConfigureAwait(false);
        return new TailnetConnection(channel);
    }

    /// <summary>Diagnostics for tests: the netstack's TCP connections and the dataplane's counters.</summary>
    internal async Task<string> DescribeAsync()
    {
        var (dataplane, netstack) = Started();
        var tcp = await netstack.DescribeTcpAsync().ConfigureAwait(false);
        var wg = await InspectAsync(core => string.Join(", ", core.Counters.Snapshot().Select(kv => kv.Key + "=" + kv.Value))).ConfigureAwait(false);
        return $"{tcp}\nwireguard drops: {wg}; underlay inbound drops {dataplane.UnderlayInboundDrops}, send drops {dataplane.UnderlaySendDrops}, to-netstack drops {dataplane.FromWireGuardDrops}";
    }

    /// <summary>Resolves <c>host:port</c> against IP literals and configured peer names only.</summary>
    internal IPEndPoint ResolveDialTarget(string hostAndPort)
    {
        if (!EndpointParser.TrySplit(hostAndPort, out var host, out var port, out var error))
        {
            throw new ArgumentException(error, nameof(hostAndPort));
        }

        return ResolveDialTarget(host, port);
    }

    /// <summary>Resolves <paramref name="host"/> (IP literal, brackets allowed, or peer name) with <paramref name="port"/>.</summary>
    internal IPEndPoint ResolveDialTarget(string host, int port)
    {
        host = host.Trim('[', ']');
        if (IPAddress.TryParse(host, out var literal))
        {
            return new IPEndPoint(literal, port);
        }

        TailnetPeer? match;
        lock (_gate)
        {
            match = PeerList.FirstOrDefault(p => p.Name is { } name && string.Equals(name, host, StringComparison.OrdinalIgnoreCase));
        }

        var address = match?.AllowedIps
            .Where(n => n.PrefixLength == (n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            .OrderBy(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
            .Select(n => n.BaseAddress)
            .FirstOrDefault();
        if (address is null)
        {
            throw new ArgumentException(
                string.Format(CultureInfo.InvariantCulture, "'{0}' is neither an IP address nor the name of a peer with a single-address AllowedIPs entry; tailnet dials never use the host's DNS.", host),
                nameof(host));
        }

        return new IPEndPoint(address, port);
    }
}
