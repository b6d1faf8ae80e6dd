using System.Net;
using System.Net.Sockets;
using TsNet.Configuration;

namespace TsNet.Registry;

/// <summary>
/// One peer as the registry holds it: what WireGuard needs (keys, endpoint, AllowedIPs, keepalive, relay path) and
/// who the peer is (names, addresses, tags, user). Immutable: a change is a new instance in a new snapshot, so the
/// dataplane can tell by reference whether what it applied is still current.
/// </summary>
internal sealed class RegistryPeer
{
    // Made on first WhoIs; racing threads may each make one, any of them is right (the entry never changes).
    private TailnetPeerIdentity? _identity;

    /// <summary>The peer's WireGuard public key (its node key).</summary>
    public required WireGuardKey NodeKey { get; init; }

    public WireGuardKey? PresharedKey { get; init; }

    /// <summary>First endpoint as <c>host:port</c> text (resolved by the facade), or null.</summary>
    public string? Endpoint { get; init; }

    public TimeSpan PersistentKeepalive { get; init; }

    public TailnetRelayPath? Relay { get; init; }

    /// <summary>Cryptokey routing: what the peer may send from and what is routed to it.</summary>
    public IReadOnlyList<IPNetwork> AllowedIps { get; init; } = [];

    /// <summary>Short name (<c>db</c>); dials and SOCKS5 resolve it.</summary>
    public string? Name { get; init; }

    /// <summary>Fully qualified name without the trailing dot (<c>db.tailnet.example</c>), or null.</summary>
    public string? DnsName { get; init; }

    /// <summary>
    /// The peer's own addresses: the host entries (/32, /128) of its AllowedIPs for static peers, IPv4 first. A
    /// subnet prefix is a route through the peer, not an address of it, so its base address is not listed.
    /// </summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = [];

    public IReadOnlyList<string> Tags { get; init; } = [];

    public string? UserLoginName { get; init; }

    public string? UserDisplayName { get; init; }

    public PeerSource Source { get; init; } = PeerSource.Static;

    /// <summary>Netmap peers: the peer's disco key (zero = none; static peers have none).</summary>
    public DiscoKey DiscoKey { get; init; }

    /// <summary>Netmap peers: every candidate UDP endpoint (<c>ip:port</c>); <see cref="Endpoint"/> is the first.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>Netmap peers: the home DERP region (0 = unknown).</summary>
    public int HomeDerpRegion { get; init; }

    /// <summary>Netmap peers: online as the server says; null = unknown (static peers).</summary>
    public bool? Online { get; init; }

    /// <summary>Netmap peers: when the node key expires, judged by the local clock; null = never.</summary>
    public DateTimeOffset? KeyExpiry { get; init; }

    /// <summary>A static peer from a validated copy of <paramref name="peer"/>.</summary>
    public static RegistryPeer FromStatic(TailnetPeer peer, string? dnsSuffix)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var allowed = IPNetworkLists.ToArray(peer.AllowedIps);
        return new RegistryPeer
        {
            NodeKey = peer.PublicKey,
            PresharedKey = peer.PresharedKey,
            Endpoint = peer.Endpoint,
            PersistentKeepalive = peer.PersistentKeepalive ?? TimeSpan.Zero,
            Relay = peer.Relay?.Clone(),
            AllowedIps = allowed,
            Name = peer.Name,
            DnsName = peer.Name is { } name && dnsSuffix is not null ? name + "." + dnsSuffix : null,
            Addresses = HostAddresses(allowed),
            Source = PeerSource.Static,
        };
    }

    /// <summary>The host entries of <paramref name="prefixes"/>, IPv4 first, in configuration order otherwise.</summary>
    public static IPAddress[] HostAddresses(IReadOnlyList<IPNetwork> prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var count = 0;
        foreach (var prefix in prefixes)
        {
            if (IsHost(prefix))
            {
                count++;
            }
        }

        if (count == 0)
        {
            return [];
        }

        var hosts = new IPAddress[count];
        var next = 0;
        foreach (var family in (ReadOnlySpan<AddressFamily>)[AddressFamily.InterNetwork, AddressFamily.InterNetworkV6])
        {
            foreach (var prefix in prefixes)
            {
                if (prefix.BaseAddress.AddressFamily == family && IsHost(prefix))
                {
                    hosts[next++] = prefix.BaseAddress;
                }
            }
        }

        return next == count ? hosts : hosts[..next];
    }

    private static bool IsHost(IPNetwork prefix) => prefix.PrefixLength == AddressText.MaxPrefix(prefix.BaseAddress);

    /// <summary>The peer as the public <see cref="TailnetPeerIdentity"/> of <c>WhoIsAsync</c> (made once, on first use).</summary>
    public TailnetPeerIdentity Identity =>
        _identity ??= new(DnsName, Name, NodeKey, Addresses, Tags, UserLoginName, UserDisplayName);
}
