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
    private readonly Dictionary<long, Node> _peers = [];
    private readonly Dictionary<long, UserProfile> _users = [];
    private readonly PacketFilterChunks _filter = new();

    // The registry entry made for each peer ID (null: the peer has none) and which ID holds each node key, so a
    // delta rebuilds only the peers it names and a node key is never in the registry twice.
    private readonly Dictionary<long, RegistryPeer?> _entries = [];
    private readonly Dictionary<WireGuardKey, long> _idByKey = [];

    private Node? _self;
    private NodeNames _selfNames;
    private IReadOnlyList<System.Net.IPAddress> _selfAddresses = [];
    private string? _domain;
    private DERPMap? _derpMap;
    private DNSConfig? _dnsConfig;
    private System.Text.Json.JsonElement? _effectiveFilter;
    private DateTimeOffset? _controlTime;

    /// <summary>
    /// Creates a folder. <paramref name="fullMapsOnly"/>: the server sends every map whole (the Go test server without
    /// deltas), so a message with <c>Node</c> and no <c>Peers</c> means no peers rather than unchanged (Go's encoder
    /// leaves out an empty peer list, which would otherwise keep the last peer forever).
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

        var fullPeers = response.Peers ?? (_fullMapsOnly && response.Node is not null ? [] : null);
        CheckBounds(response, fullPeers);

        var selfChanged = false;
        if (response.Node is { } self)
        {
            _self = NodeNormalizer.Normalize(self);
            selfChanged = true;
        }

        var namesChanged = false;
        if (!string.IsNullOrEmpty(response.Domain) && response.Domain != _domain)
        {
            _domain = response.Domain;
            namesChanged = true;
        }

        namesChanged |= ApplyUserProfiles(response.UserProfiles);
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
            _peers.Clear();
            foreach (var peer in fullPeers!)
            {
                if (peer is not null)
                {
                    _peers[peer.ID] = NodeNormalizer.Normalize(peer);
                }
            }
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
            Peers = [.. _peers.Values],
            Domain = _domain,
            UserProfiles = new Dictionary<long, UserProfile>(_users),
            DerpMap = _derpMap,
            DnsConfig = _dnsConfig,
            PacketFilter = _effectiveFilter,
            ControlTime = _controlTime,
        };
        Current = netmap;

        // New names or owners touch every entry: rebuild all (rare: the domain and users seldom change).
        return full || namesChanged
            ? RebuildAll(netmap, selfChanged, filterChanged, derpChanged, dnsChanged)
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

    private void ApplyRemovals(IReadOnlyList<long>? removed, HashSet<long> changedIds)
    {
        foreach (var id in removed ?? [])
        {
            if (_peers.Remove(id))
            {
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
                _peers[peer.ID] = NodeNormalizer.Normalize(peer);
                changedIds.Add(peer.ID);
            }
        }
    }

    private void ApplyPatches(IReadOnlyList<PeerChange>? patches, HashSet<long> changedIds)
    {
        foreach (var patch in patches ?? [])
        {
            if (patch is null || !_peers.TryGetValue(patch.NodeID, out var peer))
            {
                continue;
            }

            _peers[patch.NodeID] = peer with
            {
                HomeDERP = patch.DERPRegion != 0 ? patch.DERPRegion : peer.HomeDERP,
                Cap = patch.Cap != 0 ? patch.Cap : peer.Cap,
                CapMap = patch.CapMap ?? peer.CapMap,
                Endpoints = patch.Endpoints ?? peer.Endpoints,
                Key = patch.Key ?? peer.Key,
                DiscoKey = patch.DiscoKey ?? peer.DiscoKey,
                Online = patch.Online ?? peer.Online,
                LastSeen = patch.LastSeen ?? peer.LastSeen,
                KeyExpiry = patch.KeyExpiry ?? peer.KeyExpiry,
            };
            changedIds.Add(patch.NodeID);
        }
    }

    private void ApplyOnline(IReadOnlyDictionary<long, bool>? online, HashSet<long> changedIds)
    {
        foreach (var (id, isOnline) in online ?? new Dictionary<long, bool>())
        {
            if (_peers.TryGetValue(id, out var peer) && peer.Online != isOnline)
            {
                _peers[id] = peer with { Online = isOnline };
                changedIds.Add(id);
            }
        }
    }

    private void ApplySeen(IReadOnlyDictionary<long, bool>? seen, HashSet<long> changedIds)
    {
        foreach (var (id, seenNow) in seen ?? new Dictionary<long, bool>())
        {
            if (_peers.TryGetValue(id, out var peer))
            {
                // Last-seen is not in the registry: the map changes, the registry entry does not.
                _peers[id] = peer with { LastSeen = seenNow ? _time.GetUtcNow() : null };
            }
        }
    }

    // The peer's entry, unless it has none, its key is the self node's (a node is never its own peer) or another
    // peer already holds the key (the registry is keyed by node key).
    private RegistryPeer? BuildEntry(long id, Node peer)
    {
        var entry = RegistryPeerBuilder.Build(peer, _domain, _users, _acceptRoutes);
        if (entry is null
            || (_self?.Key is { } selfKey && peer.Key is { } peerKey && string.Equals(selfKey, peerKey, StringComparison.OrdinalIgnoreCase))
            || !_idByKey.TryAdd(entry.NodeKey, id))
        {
            return null;
        }

        return entry;
    }

    private NetmapUpdate RebuildAll(Netmap netmap, bool selfChanged, bool filterChanged, bool derpChanged, bool dnsChanged)
    {
        _entries.Clear();
        _idByKey.Clear();
        var all = new List<RegistryPeer>(_peers.Count);
        var skipped = 0;
        foreach (var (id, peer) in _peers)
        {
            var entry = BuildEntry(id, peer);
            _entries[id] = entry;
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
        foreach (var id in changedIds)
        {
            if (_entries.Remove(id, out var old) && old is not null)
            {
                _idByKey.Remove(old.NodeKey);
                removals.Add(old.NodeKey);
            }
        }

        var skipped = 0;
        foreach (var id in changedIds)
        {
            if (!_peers.TryGetValue(id, out var peer))
            {
                continue;
            }

            var entry = BuildEntry(id, peer);
            _entries[id] = entry;
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
}
