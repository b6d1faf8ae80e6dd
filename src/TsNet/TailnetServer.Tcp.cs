using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.Configuration;

namespace TsNet;

// TCP and UDP-free dialing surface of the facade: listeners, outbound connections, and name resolution for dials.
public sealed partial class TailnetServer
{
    /// <summary>
    /// Listens for TCP connections on <paramref name="port"/> on all of the node's overlay addresses, including any
    /// the node gets later (a listener is keyed by port, not address). Its <see cref="TailnetListener.LocalEndPoint"/>
    /// names the node's first address when it started listening (the IPv4 any-address if it had none).
    /// </summary>
    /// <exception cref="InvalidOperationException">The port already has a listener, or the node is not started.</exception>
    public async ValueTask<TailnetListener> ListenTcpAsync(int port, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var (_, netstack) = Started();
        var entry = await netstack.ListenTcpAsync(port, cancellationToken).ConfigureAwait(false);
        var addresses = Addresses;
        return new TailnetListener(netstack, entry, new IPEndPoint(addresses.Count > 0 ? addresses[0] : IPAddress.Any, port));
    }

    /// <summary>
    /// Opens a TCP connection to <paramref name="hostAndPort"/>: <c>100.64.0.1:80</c>, <c>[fd7a::1]:80</c>, or a peer
    /// name from the configuration such as <c>db:5432</c> (also <c>db.tailnet.example:5432</c> when
    /// <see cref="TailnetServerOptions.DnsSuffix"/> is <c>tailnet.example</c>). Names never fall back to the host's DNS.
    /// </summary>
    /// <exception cref="ArgumentException">Not host:port, or the host is neither an IP literal nor a peer name.</exception>
    /// <exception cref="SocketException">Refused, timed out or reset.</exception>
    public ValueTask<TailnetConnection> ConnectTcpAsync(string hostAndPort, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hostAndPort);
        return ConnectTcpAsync(ResolveDialTarget(hostAndPort), cancellationToken);
    }

    /// <summary>Opens a TCP connection to <paramref name="remote"/> over the tailnet.</summary>
    /// <exception cref="SocketException">Refused (RST), timed out (no answer to SYN retries) or reset;
    /// <see cref="SocketError.NetworkUnreachable"/> at once ("no peer routes …") when neither the node nor any peer's
    /// AllowedIPs contain the address; <see cref="SocketError.HostUnreachable"/> when no WireGuard handshake with the
    /// peer that routes the address completes within 10 s (the message names the peer, its endpoint and what to check).
    /// The node's own addresses work like loopback.</exception>
    public async ValueTask<TailnetConnection> ConnectTcpAsync(IPEndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var (_, netstack) = Started();
        EnsureOverlayRoute(remote.Address);
        return await DialWithHandshakeBoundAsync(
            remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address,
            async token => new TailnetConnection(await netstack.ConnectTcpAsync(remote, token).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Diagnostics for tests: the netstack's TCP connections and the dataplane's counters.</summary>
    internal async Task<string> DescribeAsync()
    {
        var (dataplane, netstack) = Started();
        var tcp = await netstack.DescribeTcpAsync().ConfigureAwait(false);
        var wg = await InspectAsync(core =>
        {
            var counters = new List<string>();
            foreach (var (name, count) in core.Counters.Snapshot())
            {
                counters.Add(name + "=" + count);
            }

            return string.Join(", ", counters);
        }).ConfigureAwait(false);
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

    /// <summary>
    /// Resolves <paramref name="host"/> with <paramref name="port"/>: an IP literal (brackets allowed), a peer's
    /// <see cref="TailnetPeer.Name"/>, or that name followed by <c>.</c> and <see cref="TailnetServerOptions.DnsSuffix"/>;
    /// case-insensitive, one trailing dot allowed. Nothing else: the host's DNS is never asked.
    /// </summary>
    /// <exception cref="ArgumentException">The host is neither an IP literal nor a configured peer name, or the peer has no single address.</exception>
    internal IPEndPoint ResolveDialTarget(string host, int port)
    {
        var literal = host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (AddressText.TryParseAddress(literal, out var address))
        {
            return new IPEndPoint(address, port);
        }

        // The name index holds short names before DNS names (name.<DnsSuffix>), so a peer whose own name ends in
        // the suffix still wins over the peer whose short name is the rest.
        var registry = _registry.Current;
        var match = registry.FindByName(host)
            ?? throw new ArgumentException(UnknownNameMessage(host, registry, _options.DnsSuffix ?? Volatile.Read(ref _tailnetDomain)), nameof(host));
        return match.Addresses.Count > 0
            ? new IPEndPoint(match.Addresses[0], port)
            : throw new ArgumentException(
                string.Format(CultureInfo.InvariantCulture, "Peer '{0}' has no single-address AllowedIPs entry (/32 or /128) to dial by name; dial an address in its AllowedIPs instead.", match.Name),
                nameof(host));
    }

    /// <summary>Built only when a dial fails: a few names from the snapshot, never a list of every peer.</summary>
    private static string UnknownNameMessage(string host, Registry.PeerRegistrySnapshot registry, string? suffix)
    {
        // A few names are enough to spot a typo; a long list would bury the point of the message.
        const int MaxListedNames = 8;
        var (names, more) = registry.SomeNames(MaxListedNames);
        var known = names.Count == 0
            ? "no peer has a name"
            : "peer names: " + string.Join(", ", names) + (more ? ", ..." : string.Empty)
                + (suffix is null ? string.Empty : $"; each also answers to <name>.{suffix}");
        return string.Format(
            CultureInfo.InvariantCulture,
            "'{0}' is neither an IP address nor the name of a peer: it is not a configured peer name ({1}), and TsNet never falls back to the host's DNS.",
            host,
            known);
    }
}
