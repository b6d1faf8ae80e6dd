using System.Net;

namespace TsNet.Registry;

/// <summary>
/// One immutable view of every peer the node knows: the peers in order, an index by node key, a case-insensitive
/// name index (short names and DNS names) and a prefix trie over all AllowedIPs. Made by <see cref="PeerRegistry"/>
/// (whole, or from the previous snapshot and a change: <see cref="WithChanges"/>) and never changed afterwards, so
/// readers on any thread need no lock.
/// </summary>
internal sealed class PeerRegistrySnapshot
{
    private readonly Dictionary<WireGuardKey, RegistryPeer> _byKey;
    private readonly Dictionary<string, RegistryPeer> _byName;
    private readonly PrefixTrie<RegistryPeer> _routes;

    // Name claims (short or DNS name) that lost to another peer's, and AllowedIPs entries over all peers. A change
    // can patch the indexes in place only while no claim lost (nameConflicts 0) and no prefix is shared (claims ==
    // trie count): otherwise removing a winner would have to find the claim that takes its place, so it rebuilds.
    private readonly int _nameConflicts;
    private readonly int _prefixClaims;

    private PeerRegistrySnapshot(
        long version, RegistryPeer[] peers, Dictionary<WireGuardKey, RegistryPeer> byKey, Dictionary<string, RegistryPeer> byName,
        PrefixTrie<RegistryPeer> routes, int nameConflicts, int prefixClaims, bool patched)
    {
        Version = version;
        Patched = patched;
        Peers = peers;
        _byKey = byKey;
        _byName = byName;
        _routes = routes;
        _nameConflicts = nameConflicts;
        _prefixClaims = prefixClaims;
    }

    /// <summary>A registry with no peers.</summary>
    public static PeerRegistrySnapshot Empty { get; } = Create(0, []);

    /// <summary>Increases with every change; the dataplane compares it to know what it has applied.</summary>
    public long Version { get; }

    /// <summary>Every peer, in the order they were added (an update moves a peer to the end).</summary>
    public IReadOnlyList<RegistryPeer> Peers { get; }

    public int Count => Peers.Count;

    /// <summary>True when this snapshot was patched from the previous one rather than built whole (tests and benchmarks check which).</summary>
    public bool Patched { get; }

    /// <summary>
    /// A snapshot with <paramref name="peers"/> (already validated and in order): the indexes are built in one pass,
    /// pre-sized. Names: a short name beats another peer's DNS name spelled the same, and otherwise the first peer
    /// with a name wins; a prefix listed by several peers goes to the last.
    /// </summary>
    /// <exception cref="ArgumentException">A node key is listed twice.</exception>
    public static PeerRegistrySnapshot Create(long version, RegistryPeer[] peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var byKey = new Dictionary<WireGuardKey, RegistryPeer>(peers.Length);
        var byName = new Dictionary<string, RegistryPeer>(2 * peers.Length, StringComparer.OrdinalIgnoreCase);
        var routes = new PrefixTrie<RegistryPeer>.Builder();
        var nameConflicts = 0;
        var prefixClaims = 0;
        foreach (var peer in peers)
        {
            Index(peer, byKey, byName, routes, ref nameConflicts, ref prefixClaims);
        }

        return new(version, peers, byKey, byName, routes.ToTrie(), nameConflicts, prefixClaims, patched: false);
    }

    /// <summary>
    /// The snapshot after <paramref name="removals"/>, then <paramref name="upserts"/> (each replacing the entry with
    /// its node key, which moves to the end): exactly what <see cref="Create"/> makes of the resulting peer list. A
    /// small change patches copies of the indexes (the trie shares every path it does not change) instead of
    /// rebuilding them; this snapshot stays as it was.
    /// </summary>
    /// <exception cref="ArgumentException">A node key is upserted twice.</exception>
    public PeerRegistrySnapshot WithChanges(long version, IReadOnlyList<RegistryPeer> upserts, IReadOnlyCollection<WireGuardKey> removals)
    {
        ArgumentNullException.ThrowIfNull(upserts);
        ArgumentNullException.ThrowIfNull(removals);

        // The peers leaving their place: removed ones and the previous entries of upserted keys.
        var dropped = new HashSet<RegistryPeer>(ReferenceEqualityComparer.Instance);
        foreach (var key in removals)
        {
            if (_byKey.TryGetValue(key, out var old))
            {
                dropped.Add(old);
            }
        }

        foreach (var peer in upserts)
        {
            if (_byKey.TryGetValue(peer.NodeKey, out var old))
            {
                dropped.Add(old);
            }
        }

        var peers = new RegistryPeer[Count - dropped.Count + upserts.Count];
        var next = 0;
        foreach (var existing in Peers)
        {
            if (dropped.Count == 0 || !dropped.Contains(existing))
            {
                peers[next++] = existing;
            }
        }

        foreach (var peer in upserts)
        {
            peers[next++] = peer;
        }

        var patchable = _nameConflicts == 0 && _prefixClaims == _routes.Count && (dropped.Count + upserts.Count) * 4 <= Count;
        return patchable ? Patch(version, peers, dropped, upserts) : Create(version, peers);
    }

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

    /// <summary>
    /// Copies of the indexes without the dropped peers' entries, plus the upserts'. Sound only without lost name claims
    /// or shared prefixes: then every entry of a dropped peer is its own, and the upserts (last in order) index as
    /// they would in a full build.
    /// </summary>
    private PeerRegistrySnapshot Patch(long version, RegistryPeer[] peers, HashSet<RegistryPeer> dropped, IReadOnlyList<RegistryPeer> upserts)
    {
        var byKey = new Dictionary<WireGuardKey, RegistryPeer>(_byKey);
        var byName = new Dictionary<string, RegistryPeer>(_byName, StringComparer.OrdinalIgnoreCase);
        var routes = _routes.ToBuilder();
        var prefixClaims = _prefixClaims;
        foreach (var old in dropped)
        {
            byKey.Remove(old.NodeKey);
            RemoveName(byName, old.Name, old);
            RemoveName(byName, old.DnsName, old);
            foreach (var prefix in old.AllowedIps)
            {
                routes.Remove(prefix, old);
                prefixClaims--;
            }
        }

        var nameConflicts = 0;
        foreach (var peer in upserts)
        {
            Index(peer, byKey, byName, routes, ref nameConflicts, ref prefixClaims);
        }

        return new(version, peers, byKey, byName, routes.ToTrie(), nameConflicts, prefixClaims, patched: true);
    }

    private static void RemoveName(Dictionary<string, RegistryPeer> byName, string? name, RegistryPeer owner)
    {
        if (name is not null && byName.TryGetValue(name, out var holder) && ReferenceEquals(holder, owner))
        {
            byName.Remove(name);
        }
    }

    /// <summary>
    /// Adds <paramref name="peer"/> (the last so far in order) to the indexes. Its short name takes a name only
    /// another peer's DNS name holds (short names beat DNS names, whatever the order); otherwise the first claim
    /// stays. Each claim that loses counts as a conflict.
    /// </summary>
    private static void Index(
        RegistryPeer peer, Dictionary<WireGuardKey, RegistryPeer> byKey, Dictionary<string, RegistryPeer> byName,
        PrefixTrie<RegistryPeer>.Builder routes, ref int nameConflicts, ref int prefixClaims)
    {
        if (!byKey.TryAdd(peer.NodeKey, peer))
        {
            throw new ArgumentException($"Peer {peer.NodeKey} is listed twice.", nameof(peer));
        }

        if (peer.Name is { } name && !byName.TryAdd(name, peer))
        {
            var holder = byName[name];
            if (!string.Equals(holder.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                byName[name] = peer;
            }

            nameConflicts++;
        }

        if (peer.DnsName is { } dnsName && !byName.TryAdd(dnsName, peer) && !ReferenceEquals(byName[dnsName], peer))
        {
            nameConflicts++;
        }

        foreach (var prefix in peer.AllowedIps)
        {
            routes.Add(prefix, peer);
            prefixClaims++;
        }
    }
}
