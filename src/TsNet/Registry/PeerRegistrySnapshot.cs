using System.Net;

namespace TsNet.Registry;

/// <summary>
/// One immutable view of every peer the node knows: the peers in order, an index by node key, a case-insensitive
/// name index (short names and DNS names) and a prefix trie over all AllowedIPs. Built whole by
/// <see cref="PeerRegistry"/> and never changed afterwards, so readers on any thread need no lock.
/// </summary>
internal sealed class PeerRegistrySnapshot
{
    private readonly Dictionary<WireGuardKey, RegistryPeer> _byKey;
    private readonly Dictionary<string, RegistryPeer> _byName;
    private readonly PrefixTrie<RegistryPeer> _routes;

    private PeerRegistrySnapshot(long version, RegistryPeer[] peers)
    {
        Version = version;
        Peers = peers;
        _byKey = new Dictionary<WireGuardKey, RegistryPeer>(peers.Length);
        _byName = new Dictionary<string, RegistryPeer>(StringComparer.OrdinalIgnoreCase);
        foreach (var peer in peers)
        {
            if (!_byKey.TryAdd(peer.NodeKey, peer))
            {
                throw new ArgumentException($"Peer {peer.NodeKey} is listed twice.", nameof(peers));
            }
        }

        // Short names first and the first peer with a name wins, so a name written as configured beats another
        // peer's DNS name that happens to be spelled the same.
        foreach (var peer in peers)
        {
            if (peer.Name is { } name)
            {
                _byName.TryAdd(name, peer);
            }
        }

        foreach (var peer in peers)
        {
            if (peer.DnsName is { } dnsName)
            {
                _byName.TryAdd(dnsName, peer);
            }
        }

        _routes = PrefixTrie<RegistryPeer>.Build(peers.SelectMany(peer => peer.AllowedIps.Select(prefix => (prefix, peer))));
    }

    /// <summary>A registry with no peers.</summary>
    public static PeerRegistrySnapshot Empty { get; } = new(0, []);

    /// <summary>Increases with every change; the dataplane compares it to know what it has applied.</summary>
    public long Version { get; }

    /// <summary>Every peer, in the order they were added (an update moves a peer to the end).</summary>
    public IReadOnlyList<RegistryPeer> Peers { get; }

    public int Count => Peers.Count;

    /// <summary>A snapshot with <paramref name="peers"/> (already validated and in order).</summary>
    public static PeerRegistrySnapshot Create(long version, RegistryPeer[] peers) => new(version, peers);

    public bool TryGet(WireGuardKey nodeKey, out RegistryPeer peer) => _byKey.TryGetValue(nodeKey, out peer!);

    /// <summary>The peer named <paramref name="name"/> (short or DNS name, any case, one trailing dot allowed), or null.</summary>
    public RegistryPeer? FindByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var trimmed = name.EndsWith('.') ? name[..^1] : name;
        return _byName.GetValueOrDefault(trimmed);
    }

    /// <summary>The peer whose AllowedIPs hold <paramref name="address"/> (longest prefix), or null.</summary>
    public RegistryPeer? FindByAddress(IPAddress address) => _routes.Lookup(address);

    /// <summary>Up to <paramref name="max"/> peer names for an error message, and whether there were more.</summary>
    public (List<string> Names, bool More) SomeNames(int max)
    {
        var names = new List<string>(max);
        foreach (var peer in Peers)
        {
            if (peer.Name is not { } name)
            {
                continue;
            }

            if (names.Count == max)
            {
                return (names, true);
            }

            names.Add(name);
        }

        return (names, false);
    }
}
