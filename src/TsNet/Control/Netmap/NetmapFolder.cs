using System.Runtime.InteropServices;
using TsNet.Control.Protocol;
using TsNet.Registry;

namespace TsNet.Control.Netmap;

/// <summary>
/// Folds the map stream's messages, in order, into a <see cref="Netmap"/> and registry changes (protocol doc §9.3).
/// Sans-IO and single-threaded (the map poll's task owns it); each <see cref="Apply"/> returns an immutable result.
/// Absent fields mean unchanged; <c>Peers</c> present is the complete list; <c>PeersRemoved</c>, <c>PeersChanged</c>
/// (whole nodes), <c>PeersChangedPatch</c>, <c>OnlineChange</c> and <c>PeerSeenChange</c> are deltas, applied in
/// that order. A message that would exceed <see cref="PeerRegistry.MaxPeers"/> is refused before anything changes.
/// </summary>
internal sealed class NetmapFolder
{
    private readonly TimeProvider _time;
    private bool _fullMapsOnly;
    private readonly bool _acceptRoutes;
    private readonly Dictionary<long, UserProfile> _users = [];
    private readonly PacketFilterChunks _filter = new();
    private readonly StringPool _strings = new();

    // Each peer in its compact form with the registry entry made for it (null: the peer has none), and which ID
    // holds each node key, so a delta rebuilds only the peers it names and a node key is never in the registry twice.
    private Dictionary<long, PeerSlot> _peers = [];

    // The slots before the current full map (swapped with _peers, so neither is reallocated per map): a peer the new
    // map sends unchanged keeps its compact form and registry entry, so the registry sees the same instance.
    private Dictionary<long, PeerSlot> _previousPeers = [];
    private readonly Dictionary<WireGuardKey, long> _idByKey = [];
    private readonly List<RegistryPeer> _released = [];

    private IReadOnlyDictionary<long, UserProfile> _usersView = new Dictionary<long, UserProfile>();
    private Node? _self;
    private WireGuardKey? _selfKey;
    private NodeNames _selfNames;
    private IReadOnlyList<System.Net.IPAddress> _selfAddresses = [];
    private string? _domain;
    private DERPMap? _derpMap;
    private DNSConfig? _dnsConfig;
    private System.Text.Json.JsonElement? _effectiveFilter;
    private DateTimeOffset? _controlTime;

    /// <summary>
    /// Creates a folder. <paramref name="fullMapsOnly"/>: the server sends every map whole (the Go test server without
    /// deltas), so a whole map (<c>Node</c> with <c>DERPMap</c> or <c>Domain</c>) without <c>Peers</c> means no peers
    /// rather than unchanged (Go's encoder leaves out an empty peer list, which would otherwise keep the last peer
    /// forever). A later message with a self node and neither is a delta and switches this off.
    /// <paramref name="acceptRoutes"/>: peers' subnet routes go into their AllowedIPs (<c>AcceptRoutes</c>); otherwise
    /// only their own addresses do.
    /// </summary>
    public NetmapFolder(TimeProvider time, bool fullMapsOnly = false, bool acceptRoutes = false)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _fullMapsOnly = fullMapsOnly;
        _acceptRoutes = acceptRoutes;
    }

    /// <summary>
    /// The server was seen sending deltas (the Go test server with <c>-deltas</c>, Headscale): from now on a message with
    /// a self node and no <c>Peers</c> leaves the peers unchanged, whatever the constructor was told.
    /// </summary>
    public void ExpectDeltas() => _fullMapsOnly = false;

    /// <summary>The map so far; null before the first message with a self node.</summary>
    public Netmap? Current { get; private set; }

    /// <summary>Peers held.</summary>
    public int PeerCount => _peers.Count;

    /// <summary>
    /// Folds <paramref name="response"/> in. Keep-alives change nothing and return null; so does any message before
    /// the first one with a self node (Go treats that as an error; here it is ignored rather than fatal).
    /// </summary>
    /// <exception cref="ControlProtocolException">The message would hold more peers than the registry allows.</exception>
    public NetmapUpdate? Apply(MapResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.ControlTime is { } controlTime)
        {
            _controlTime = controlTime;
        }

        if (response.KeepAlive || (_self is null && response.Node is null))
        {
            return null;
        }

        if (_fullMapsOnly && _self is not null && response.Node is not null && response.Peers is null
            && response.DERPMap is null && response.Domain is null)
        {
            // A whole map carries DERPMap and Domain with its Node; a self node alone is a delta (the Go test server
            // with -deltas sends one when only the node itself changed): this server sends deltas.
            _fullMapsOnly = false;
        }

        var fullPeers = response.Peers ?? (_fullMapsOnly && response.Node is not null ? [] : null);
        CheckBounds(response, fullPeers);

        var selfChanged = false;
        if (response.Node is { } self)
        {
            _self = NodeNormalizer.Normalize(self);
            _selfKey = self.Key is not null && ControlKeyText.TryParse(ControlKeyText.NodePublicPrefix, self.Key, out var selfKey) ? selfKey : null;
            selfChanged = true;
        }

        var namesChanged = false;
        if (!string.IsNullOrEmpty(response.Domain) && response.Domain != _domain)
        {
            _domain = response.Domain;
            namesChanged = true;
        }

        var usersChanged = ApplyUserProfiles(response.UserProfiles);
        if (usersChanged)
        {
            _usersView = new Dictionary<long, UserProfile>(_users);
        }

        namesChanged |= usersChanged;
        if (selfChanged || namesChanged)
        {
            _selfNames = NodeNames.From(_self!.Name, _domain, _self.Hostinfo?.Hostname);
            _selfAddresses = RegistryPeer.HostAddresses(RegistryPeerBuilder.ParsePrefixes(_self.Addresses));
        }

        var derpChanged = response.DERPMap is not null;
        _derpMap = DerpMapMerger.Merge(_derpMap, response.DERPMap);
        var dnsChanged = response.DNSConfig is not null;
        _dnsConfig = response.DNSConfig ?? _dnsConfig;
        var filterChanged = _filter.Apply(response.PacketFilter, response.PacketFilters);
        if (filterChanged)
        {
            _effectiveFilter = _filter.Effective();
        }

        var changedIds = new HashSet<long>();
        var full = fullPeers is not null;
        if (full)
        {
            ReplacePeers(fullPeers!);
        }
        else
        {
            ApplyRemovals(response.PeersRemoved, changedIds);
            ApplyChanged(response.PeersChanged, changedIds);
        }

        ApplyPatches(response.PeersChangedPatch, changedIds);
        ApplyOnline(response.OnlineChange, changedIds);
        ApplySeen(response.PeerSeenChange, changedIds);

        var netmap = new Netmap
        {
            Self = _self,
            SelfAddresses = _selfAddresses,
            SelfNames = _selfNames,
            CompactPeers = PeerList(),
            Domain = _domain,
            UserProfiles = _usersView,
            DerpMap = _derpMap,
            DnsConfig = _dnsConfig,
            PacketFilter = _effectiveFilter,
            ControlTime = _controlTime,
        };
        Current = netmap;

        // New names or owners touch every entry: rebuild all (rare: the domain and users seldom change).
        return full || namesChanged
            ? RebuildAll(netmap, changedIds, reuse: full && !namesChanged, selfChanged, filterChanged, derpChanged, dnsChanged)
            : BuildDelta(netmap, changedIds, selfChanged, filterChanged, derpChanged, dnsChanged);
    }

    private void CheckBounds(MapResponse response, IReadOnlyList<Node>? fullPeers)
    {
        var most = fullPeers?.Count ?? (_peers.Count + (response.PeersChanged?.Count ?? 0));
        if (most > PeerRegistry.MaxPeers)
        {
            throw new ControlProtocolException($"A map message would hold {most} peers; at most {PeerRegistry.MaxPeers} are allowed.");
        }
    }

    private bool ApplyUserProfiles(IReadOnlyList<UserProfile>? profiles)
    {
        var changed = false;
        foreach (var profile in profiles ?? [])
        {
            if (profile is not null && (!_users.TryGetValue(profile.ID, out var known) || known != profile))
            {
                _users[profile.ID] = profile;
                changed = true;
            }
        }

        return changed;
    }

    private NetmapPeer[] PeerList()
    {
        var list = new NetmapPeer[_peers.Count];
        var next = 0;
        foreach (var slot in _peers.Values)
        {
            list[next++] = slot.Peer;
        }

        return list;
    }

    private void ApplyRemovals(IReadOnlyList<long>? removed, HashSet<long> changedIds)
    {
        foreach (var id in removed ?? [])
        {
            if (_peers.Remove(id, out var slot))
            {
                Release(slot);
                changedIds.Add(id);
            }
        }
    }

    private void ApplyChanged(IReadOnlyList<Node>? changed, HashSet<long> changedIds)
    {
        foreach (var peer in changed ?? [])
        {
            if (peer is not null)
            {
                Replace(peer.ID, NetmapPeer.From(peer, _strings));
                changedIds.Add(peer.ID);
            }
        }
    }

    private void ApplyPatches(IReadOnlyList<PeerChange>? patches, HashSet<long> changedIds)
    {
        foreach (var patch in patches ?? [])
        {
            if (patch is null || !_peers.TryGetValue(patch.NodeID, out var slot))
            {
                continue;
            }

            Replace(patch.NodeID, slot.Peer.Patch(patch));
            changedIds.Add(patch.NodeID);
        }
    }

    private void ApplyOnline(IReadOnlyDictionary<long, bool>? online, HashSet<long> changedIds)
    {
        foreach (var (id, isOnline) in online ?? new Dictionary<long, bool>())
        {
            if (_peers.TryGetValue(id, out var slot) && slot.Peer.Online != isOnline)
            {
                Replace(id, slot.Peer with { Online = isOnline });
                changedIds.Add(id);
            }
        }
    }

    private void ApplySeen(IReadOnlyDictionary<long, bool>? seen, HashSet<long> changedIds)
    {
        foreach (var (id, seenNow) in seen ?? new Dictionary<long, bool>())
        {
            if (_peers.TryGetValue(id, out var slot))
            {
                // Last-seen is not in the registry: the map changes, the registry entry does not.
                _peers[id] = slot with { Peer = slot.Peer with { LastSeen = seenNow ? _time.GetUtcNow() : null } };
            }
        }
    }

    /// <summary>
    /// Puts <paramref name="peer"/> in place of the peer with its ID. Its previous entry stays recorded until the
    /// registry change is built (<see cref="BuildDelta"/> removes it then).
    /// </summary>
    private void Replace(long id, NetmapPeer peer) =>
        _peers[id] = new PeerSlot(peer, _peers.TryGetValue(id, out var slot) ? slot.Entry : null);

    // A removed peer's entry: remembered so the delta removes its key from the registry.
    private void Release(PeerSlot slot)
    {
        if (slot.Entry is { } old)
        {
            _released.Add(old);
        }
    }

    // The peer's entry, unless it has none, its key is the self node's (a node is never its own peer) or another
    // peer already holds the key (the registry is keyed by node key).
    private RegistryPeer? BuildEntry(long id, NetmapPeer peer) =>
        RegistryPeerBuilder.Build(peer, _domain, _usersView, _acceptRoutes) is { } entry ? Claim(id, entry) : null;

    private RegistryPeer? Claim(long id, RegistryPeer entry) =>
        (_selfKey is { } selfKey && entry.NodeKey == selfKey) || !_idByKey.TryAdd(entry.NodeKey, id) ? null : entry;

    /// <summary>
    /// The peers of a full map in place of the held ones. A peer sent as it was keeps its instance (and its slot
    /// keeps its entry for <see cref="RebuildAll"/> to reuse); a peer whose entry would be the same shares the held
    /// arrays and keeps the entry too.
    /// </summary>
    private void ReplacePeers(IReadOnlyList<Node?> peers)
    {
        (_peers, _previousPeers) = (_previousPeers, _peers);
        _peers.Clear();
        _peers.EnsureCapacity(peers.Count);
        foreach (var node in peers)
        {
            if (node is null)
            {
                continue;
            }

            var fresh = NetmapPeer.From(node, _strings);
            _peers[node.ID] = _previousPeers.TryGetValue(node.ID, out var held)
                ? new PeerSlot(held.Peer.Reuse(fresh, out var sameEntry), sameEntry ? held.Entry : null)
                : new PeerSlot(fresh, null);
        }

        _previousPeers.Clear();
    }

    /// <summary>
    /// Every entry anew, except (<paramref name="reuse"/>: a full map under unchanged names and users) the entry a
    /// slot kept from the previous map, when no delta field of this message changed the peer afterwards.
    /// </summary>
    private NetmapUpdate RebuildAll(Netmap netmap, HashSet<long> changedIds, bool reuse, bool selfChanged, bool filterChanged, bool derpChanged, bool dnsChanged)
    {
        _released.Clear();
        _idByKey.Clear();
        _idByKey.EnsureCapacity(_peers.Count);
        var all = new List<RegistryPeer>(_peers.Count);
        var skipped = 0;
        foreach (var id in _peers.Keys)
        {
            // In place through a reference: the dictionary does not change while it is enumerated.
            ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(_peers, id);
            var entry = reuse && slot.Entry is { } kept && !changedIds.Contains(id) ? Claim(id, kept) : BuildEntry(id, slot.Peer);
            slot = slot with { Entry = entry };
            if (entry is null)
            {
                skipped++;
            }
            else
            {
                all.Add(entry);
            }
        }

        return new NetmapUpdate
        {
            Netmap = netmap,
            IsFull = true,
            AllPeers = all,
            SelfChanged = selfChanged,
            FilterChanged = filterChanged,
            DerpMapChanged = derpChanged,
            DnsChanged = dnsChanged,
            SkippedPeers = skipped,
        };
    }

    private NetmapUpdate BuildDelta(Netmap netmap, HashSet<long> changedIds, bool selfChanged, bool filterChanged, bool derpChanged, bool dnsChanged)
    {
        var upserts = new List<RegistryPeer>();
        var removals = new List<WireGuardKey>();

        // Removed and re-keyed peers first release their keys, so a key that moves between peers in one message
        // lands on its new owner.
        foreach (var old in _released)
        {
            _idByKey.Remove(old.NodeKey);
            removals.Add(old.NodeKey);
        }

        _released.Clear();
        foreach (var id in changedIds)
        {
            if (_peers.TryGetValue(id, out var slot) && slot.Entry is { } old)
            {
                _idByKey.Remove(old.NodeKey);
                removals.Add(old.NodeKey);
                _peers[id] = slot with { Entry = null };
            }
        }

        var skipped = 0;
        foreach (var id in changedIds)
        {
            if (!_peers.TryGetValue(id, out var slot))
            {
                continue;
            }

            var entry = BuildEntry(id, slot.Peer);
            _peers[id] = slot with { Entry = entry };
            if (entry is null)
            {
                skipped++;
                continue;
            }

            // A key both removed and upserted is fine: the registry drops it, then adds the new entry.
            upserts.Add(entry);
        }

        return new NetmapUpdate
        {
            Netmap = netmap,
            IsFull = false,
            Upserts = upserts,
            Removals = removals,
            SelfChanged = selfChanged,
            FilterChanged = filterChanged,
            DerpMapChanged = derpChanged,
            DnsChanged = dnsChanged,
            SkippedPeers = skipped,
        };
    }

    /// <summary>A peer in its compact form and the registry entry made for it (null: none, or not made yet).</summary>
    private readonly record struct PeerSlot(NetmapPeer Peer, RegistryPeer? Entry);
}
