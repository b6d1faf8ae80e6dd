using System.Net;
using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// Sans-IO direct-path discovery (disco-direct.md §3): per peer it keeps candidate addresses, pings them, trusts a
/// direct address for a while after a pong, and otherwise sends through the peer's DERP region while discovery runs.
/// Bytes and <c>now</c> (100 ns ticks) in; datagrams out through <see cref="IPathOutput"/>; <see cref="NextDeadline"/>
/// says when to <see cref="Poll"/>. Called on the dataplane loop only.
/// </summary>
/// <remarks>
/// Files by concern: this one holds peers and lookups; <c>.Send</c> path choice and outgoing pings/CallMeMaybe;
/// <c>.Receive</c> incoming disco; <c>.Timers</c> heartbeats, timeouts and expiry.
/// </remarks>
internal sealed partial class DiscoPathCore
{
    /// <summary>Netmap endpoints kept per peer (a node reports a handful; the cap bounds a hostile netmap).</summary>
    public const int MaxNetmapEndpoints = 32;

    /// <summary>Candidates learned at run time (pings, CallMeMaybe) kept per peer; the oldest goes first.</summary>
    public const int MaxLearnedCandidates = 16;

    /// <summary>Own endpoints a CallMeMaybe announces (Tailscale sends a handful).</summary>
    public const int MaxLocalEndpoints = 32;

    private readonly byte[] _privateKey;
    private readonly byte[] _publicKey;
    private readonly byte[] _nodePublicKey;
    private readonly Action<Span<byte>> _random;
    private readonly Dictionary<uint, DiscoPeer> _peersById = [];
    private readonly Dictionary<Key32, DiscoPeer> _peersByNodeKey = [];
    private readonly Dictionary<Key32, DiscoKeyEntry> _discoKeys = [];
    private readonly Dictionary<UnderlayAddress, uint> _peerBySource = [];
    private uint _nextPeerId = 1;

    /// <summary>Creates the core for this node's disco key pair and node (WireGuard) public key.</summary>
    /// <param name="discoPrivateKey">This node's disco private key (32 bytes).</param>
    /// <param name="nodePublicKey">This node's WireGuard public key (32 bytes), sent in every ping.</param>
    /// <param name="timings">Timers; <see cref="DiscoPathTimings.Default"/> when null.</param>
    /// <param name="random">Fills transaction ids and nonces; a cryptographic source when null (tests inject their own).</param>
    public DiscoPathCore(ReadOnlySpan<byte> discoPrivateKey, ReadOnlySpan<byte> nodePublicKey, DiscoPathTimings? timings = null, Action<Span<byte>>? random = null)
    {
        if (discoPrivateKey.Length != DiscoKey.Size)
        {
            throw new ArgumentException("A disco private key is 32 bytes.", nameof(discoPrivateKey));
        }

        if (nodePublicKey.Length != Key32.Size)
        {
            throw new ArgumentException("A node public key is 32 bytes.", nameof(nodePublicKey));
        }

        _privateKey = discoPrivateKey.ToArray();
        _publicKey = new byte[DiscoKey.Size];
        X25519.DerivePublicKey(_privateKey, _publicKey);
        DiscoPublicKey = new DiscoKey(_publicKey);
        _nodePublicKey = nodePublicKey.ToArray();
        _random = random ?? RandomNumberGenerator.Fill;
        Timings = timings ?? DiscoPathTimings.Default;
        _heartbeatInterval = Timings.HeartbeatInterval.Ticks;
        _trustDuration = Timings.TrustUdpAddrDuration.Ticks;
        _sessionActiveTimeout = Timings.SessionActiveTimeout.Ticks;
        _upgradeInterval = Timings.UpgradeUdpDirectInterval.Ticks;
        _goodEnoughLatency = Timings.GoodEnoughLatency.Ticks;
        _discoPingInterval = Timings.DiscoPingInterval.Ticks;
        _pingTimeout = Timings.PingTimeout.Ticks;
        _endpointsFreshEnough = Timings.EndpointsFreshEnough.Ticks;
    }

    /// <summary>
    /// The node's WireGuard key changed (a new login or key renewal): pings carry the new public key from now on.
    /// </summary>
    public void SetNodePublicKey(ReadOnlySpan<byte> nodePublicKey)
    {
        if (nodePublicKey.Length != Key32.Size)
        {
            throw new ArgumentException("A node public key is 32 bytes.", nameof(nodePublicKey));
        }

        nodePublicKey.CopyTo(_nodePublicKey);
    }

    /// <summary>This node's disco public key (what the control client announces).</summary>
    public DiscoKey DiscoPublicKey { get; }

    /// <summary>The timers in use.</summary>
    public DiscoPathTimings Timings { get; }

    /// <summary>Peers known.</summary>
    public int PeerCount => _peersById.Count;

    /// <summary>What was sent, received and dropped.</summary>
    public DiscoPathCounters Counters { get; } = new();

    /// <summary>Adds or updates a peer from the netmap; returns its id (≥ 1, stable while the peer stays).</summary>
    /// <param name="nodeKey">The peer's node (WireGuard) public key, 32 bytes.</param>
    /// <param name="discoKey">The peer's disco public key; empty = no disco (DERP only).</param>
    /// <param name="homeDerpRegion">The peer's home DERP region; 0 = unknown.</param>
    /// <param name="endpoints">The peer's netmap endpoints (kept as candidates while listed).</param>
    /// <param name="now">Core time.</param>
    /// <exception cref="ArgumentException"><paramref name="nodeKey"/> is not 32 bytes.</exception>
    public uint SetPeer(ReadOnlySpan<byte> nodeKey, DiscoKey discoKey, int homeDerpRegion, IReadOnlyList<IPEndPoint> endpoints, long now)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (!Key32.TryRead(nodeKey, out var key))
        {
            throw new ArgumentException("A node key is 32 bytes.", nameof(nodeKey));
        }

        if (!_peersByNodeKey.TryGetValue(key, out var peer))
        {
            peer = new DiscoPeer(AllocatePeerId(), key, nodeKey.ToArray());
            _peersByNodeKey.Add(key, peer);
            _peersById.Add(peer.Id, peer);
        }

        Key32.TryRead(discoKey.Bytes, out var disco);
        if ((peer.Disco?.Key ?? default) != disco)
        {
            ChangeDiscoKey(peer, disco);
        }

        peer.HomeDerpRegion = homeDerpRegion is > 0 and <= ushort.MaxValue ? homeDerpRegion : 0;
        UpdateNetmapEndpoints(peer, endpoints, now);
        return peer.Id;
    }

    /// <summary>Forgets a peer; false when it was not known.</summary>
    public bool RemovePeer(ReadOnlySpan<byte> nodeKey)
    {
        if (!Key32.TryRead(nodeKey, out var key) || !_peersByNodeKey.Remove(key, out var peer))
        {
            return false;
        }

        _peersById.Remove(peer.Id);
        DetachDiscoKey(peer);
        while (peer.Candidates.Count > 0)
        {
            RemoveCandidateAt(peer, peer.Candidates.Count - 1);
        }

        return true;
    }

    /// <summary>The peer whose best or candidate address <paramref name="source"/> is; 0 when unknown.</summary>
    public uint PeerForUdpSource(in UnderlayAddress source) => _peerBySource.TryGetValue(source, out var id) ? id : 0;

    /// <summary>The peer with node key <paramref name="nodeKey"/>; 0 when unknown.</summary>
    public uint PeerForNodeKey(ReadOnlySpan<byte> nodeKey) =>
        Key32.TryRead(nodeKey, out var key) && _peersByNodeKey.TryGetValue(key, out var peer) ? peer.Id : 0;

    /// <summary>Records the DERP region a peer last reached us through (used when its home region is unknown).</summary>
    public void NoteDerpArrival(uint peerId, int regionId, long now)
    {
        if (regionId is > 0 and <= ushort.MaxValue && _peersById.TryGetValue(peerId, out var peer))
        {
            peer.LastDerpArrivalRegion = regionId;
        }
    }

    /// <summary>The peer's current path for status output.</summary>
    /// <summary>True while <paramref name="peerId"/>'s best direct address is trusted (a pong within the trust window).</summary>
    public bool IsDirectTrusted(uint peerId, long now) =>
        _peersById.TryGetValue(peerId, out var peer) && peer.Best.Address.IsSet && now <= peer.TrustUntil;

    public PeerPathStatus GetPathStatus(uint peerId, long now)
    {
        if (!_peersById.TryGetValue(peerId, out var peer))
        {
            return default;
        }

        var best = peer.Best;
        TimeSpan? latency = best.Address.IsSet ? TimeSpan.FromTicks(best.Latency) : null;
        if (best.Address.IsSet && now <= peer.TrustUntil)
        {
            return new PeerPathStatus(PathKind.Direct, best.Address, 0, latency);
        }

        int region = peer.DerpRegion;
        var kind = region != 0 ? PathKind.Derp : best.Address.IsSet ? PathKind.Direct : PathKind.None;
        return new PeerPathStatus(kind, best.Address, region, latency);
    }

    private uint AllocatePeerId()
    {
        // Ids are not reused while a peer holds them; after 2^32 peers the counter wraps past ids still in use.
        while (_nextPeerId == 0 || _peersById.ContainsKey(_nextPeerId))
        {
            _nextPeerId++;
        }

        return _nextPeerId++;
    }

    private void ChangeDiscoKey(DiscoPeer peer, Key32 disco)
    {
        DetachDiscoKey(peer);
        peer.ResetPaths();
        peer.LastSendActivity = Timestamps.Never;
        foreach (var candidate in peer.Candidates)
        {
            candidate.LastPing = Timestamps.Never;
        }

        if (disco.IsZero)
        {
            return;
        }

        if (!_discoKeys.TryGetValue(disco, out var entry))
        {
            Span<byte> publicKey = stackalloc byte[Key32.Size];
            disco.WriteTo(publicKey);
            var shared = new byte[NaClBox.KeySize];
            if (!NaClBox.TryPrecompute(_privateKey, publicKey, shared))
            {
                // A low-order key can never authenticate anything: treat the peer as one without disco.
                return;
            }

            entry = new DiscoKeyEntry(disco, shared);
            _discoKeys.Add(disco, entry);
        }

        entry.Peers.Add(peer);
        peer.Disco = entry;
    }

    private void DetachDiscoKey(DiscoPeer peer)
    {
        if (peer.Disco is not { } entry)
        {
            return;
        }

        entry.Peers.Remove(peer);
        if (entry.Peers.Count == 0)
        {
            _discoKeys.Remove(entry.Key);
            CryptographicOperations.ZeroMemory(entry.SharedKey);
        }

        peer.Disco = null;
    }

    private void UpdateNetmapEndpoints(DiscoPeer peer, IReadOnlyList<IPEndPoint> endpoints, long now)
    {
        foreach (var candidate in peer.Candidates)
        {
            candidate.InNetmap = false;
        }

        int listed = 0;
        for (int i = 0; i < endpoints.Count && listed < MaxNetmapEndpoints; i++)
        {
            var address = UnderlayAddress.FromIPEndPoint(endpoints[i]);
            if (!IsUsableEndpoint(address))
            {
                continue;
            }

            var candidate = peer.FindCandidate(address) ?? AddCandidate(peer, address, now);
            candidate.InNetmap = true;
            listed++;
        }

        RemoveExpiredCandidates(peer, now);
    }

    private static bool IsUsableEndpoint(in UnderlayAddress address) =>
        address.Port != 0 && !address.IsDerp && !address.IsPeerPath && !DiscoAddress.IsUnspecified(address);

    private DiscoCandidate AddCandidate(DiscoPeer peer, in UnderlayAddress address, long now)
    {
        var candidate = new DiscoCandidate(address, now);
        peer.Candidates.Add(candidate);
        _peerBySource.TryAdd(address, peer.Id);
        return candidate;
    }

    /// <summary>Adds a run-time candidate, evicting the oldest learned one when the peer has too many.</summary>
    private DiscoCandidate AddLearnedCandidate(DiscoPeer peer, in UnderlayAddress address, long now)
    {
        int learned = 0;
        int oldest = -1;
        for (int i = 0; i < peer.Candidates.Count; i++)
        {
            var candidate = peer.Candidates[i];
            if (candidate.IsLearned)
            {
                learned++;
                if (oldest < 0 || candidate.LearnedAt < peer.Candidates[oldest].LearnedAt)
                {
                    oldest = i;
                }
            }
        }

        if (learned >= MaxLearnedCandidates)
        {
            RemoveCandidateAt(peer, oldest);
        }

        return AddCandidate(peer, address, now);
    }

    private void RemoveCandidateAt(DiscoPeer peer, int index)
    {
        var address = peer.Candidates[index].Address;
        peer.Candidates.RemoveAt(index);
        if (peer.Best.Address == address)
        {
            peer.Best = default;
            peer.TrustUntil = Timestamps.Never;
        }

        if (_peerBySource.TryGetValue(address, out var id) && id == peer.Id)
        {
            _peerBySource.Remove(address);
            ReindexSource(address);
        }
    }

    /// <summary>Another peer may list the same address (rare): let it claim the source, its best address first.</summary>
    private void ReindexSource(in UnderlayAddress address)
    {
        uint claimant = 0;
        foreach (var other in _peersById.Values)
        {
            if (other.Best.Address == address)
            {
                claimant = other.Id;
                break;
            }

            if (claimant == 0 && other.FindCandidate(address) is not null)
            {
                claimant = other.Id;
            }
        }

        if (claimant != 0)
        {
            _peerBySource[address] = claimant;
        }
    }

    private void RemoveExpiredCandidates(DiscoPeer peer, long now)
    {
        for (int i = peer.Candidates.Count - 1; i >= 0; i--)
        {
            if (peer.Candidates[i].IsExpired(now, _sessionActiveTimeout))
            {
                RemoveCandidateAt(peer, i);
            }
        }
    }
}
