namespace TsNet.Registry;

/// <summary>
/// The node's peers: writers build a new <see cref="PeerRegistrySnapshot"/> and swap it in atomically; readers
/// (dialer, SOCKS5, status, WhoIs, the dataplane's peer application) take <see cref="Current"/> and never lock.
/// Writers are serialised by a lock of their own, which no reader ever takes.
/// </summary>
internal sealed class PeerRegistry
{
    /// <summary>Most peers (as the WireGuard core's own limit, wireguard-go's MaxPeers).</summary>
    public const int MaxPeers = 65536;

    private readonly object _writeGate = new();
    private PeerRegistrySnapshot _current = PeerRegistrySnapshot.Empty;

    /// <summary>The latest snapshot.</summary>
    public PeerRegistrySnapshot Current => Volatile.Read(ref _current);

    /// <summary>Adds <paramref name="peer"/> or replaces the peer with the same node key (which moves to the end).</summary>
    /// <param name="peer">The new entry.</param>
    /// <param name="validate">Checks the entry against the current snapshot under the write lock; throws to refuse.</param>
    /// <returns>The snapshot that holds the change.</returns>
    public PeerRegistrySnapshot AddOrUpdate(RegistryPeer peer, Action<PeerRegistrySnapshot, RegistryPeer>? validate = null)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_writeGate)
        {
            var current = _current;
            validate?.Invoke(current, peer);
            var replaces = current.TryGet(peer.NodeKey, out _);
            if (!replaces && current.Count >= MaxPeers)
            {
                throw new InvalidOperationException($"At most {MaxPeers} peers.");
            }

            return Publish(current.WithChanges(current.Version + 1, [peer], []));
        }
    }

    /// <summary>Removes the peer with <paramref name="nodeKey"/>; null when there was none (nothing changes).</summary>
    public PeerRegistrySnapshot? Remove(WireGuardKey nodeKey)
    {
        lock (_writeGate)
        {
            var current = _current;
            if (!current.TryGet(nodeKey, out _))
            {
                return null;
            }

            return Publish(current.WithChanges(current.Version + 1, [], [nodeKey]));
        }
    }

    /// <summary>
    /// Applies a batch of changes (a network map delta) as one snapshot: <paramref name="removals"/> first, then
    /// <paramref name="upserts"/> (each replacing the entry with its node key, which moves to the end). One snapshot and
    /// one swap however many peers change, so readers never see half of a delta; a small delta patches copies of the
    /// previous snapshot's indexes rather than rebuilding them (<see cref="PeerRegistrySnapshot.WithChanges"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The result would hold more than <see cref="MaxPeers"/> peers.</exception>
    public PeerRegistrySnapshot ApplyDelta(IReadOnlyList<RegistryPeer> upserts, IReadOnlyCollection<WireGuardKey> removals)
    {
        ArgumentNullException.ThrowIfNull(upserts);
        ArgumentNullException.ThrowIfNull(removals);
        lock (_writeGate)
        {
            // Built before the bound is checked (the result's count is exact then); refused, it is never published.
            var next = _current.WithChanges(_current.Version + 1, upserts, removals);
            if (next.Count > MaxPeers)
            {
                throw new InvalidOperationException($"At most {MaxPeers} peers.");
            }

            return Publish(next);
        }
    }

    /// <summary>Replaces every peer at once (a full network map); one snapshot, one swap.</summary>
    public PeerRegistrySnapshot ReplaceAll(IReadOnlyList<RegistryPeer> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        if (peers.Count > MaxPeers)
        {
            throw new InvalidOperationException($"At most {MaxPeers} peers.");
        }

        lock (_writeGate)
        {
            return Publish(PeerRegistrySnapshot.Create(_current.Version + 1, [.. peers]));
        }
    }

    /// <summary>
    /// Replaces every peer with <paramref name="peers"/> (a full network map), as one snapshot and one swap, but keeps
    /// what did not change: an entry already in the registry (the same instance) keeps its place, the others go to
    /// the end in the given order, and a small difference patches the previous snapshot instead of rebuilding it
    /// (<see cref="PeerRegistrySnapshot.WithChanges"/>). The resulting set is exactly <paramref name="peers"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxPeers"/> peers.</exception>
    /// <exception cref="ArgumentException">A node key is listed twice.</exception>
    public PeerRegistrySnapshot Reconcile(IReadOnlyList<RegistryPeer> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        if (peers.Count > MaxPeers)
        {
            throw new InvalidOperationException($"At most {MaxPeers} peers.");
        }

        lock (_writeGate)
        {
            var current = _current;
            var kept = new HashSet<RegistryPeer>(peers.Count, ReferenceEqualityComparer.Instance);
            var upserts = new List<RegistryPeer>();
            foreach (var peer in peers)
            {
                if (current.TryGet(peer.NodeKey, out var held) && ReferenceEquals(held, peer))
                {
                    if (!kept.Add(peer))
                    {
                        throw new ArgumentException($"Peer {peer.NodeKey} is listed twice.", nameof(peers));
                    }
                }
                else
                {
                    upserts.Add(peer);
                }
            }

            var removals = new List<WireGuardKey>();
            foreach (var held in current.Peers)
            {
                if (!kept.Contains(held))
                {
                    removals.Add(held.NodeKey);
                }
            }

            return Publish(current.WithChanges(current.Version + 1, upserts, removals));
        }
    }

    private PeerRegistrySnapshot Publish(PeerRegistrySnapshot next)
    {
        Volatile.Write(ref _current, next);
        return next;
    }
}
