namespace TsNet.Registry;

/// <summary>
/// What changed between two snapshots of one registry, for the dataplane: the entries to apply (new, or a new
/// instance for a key) and the node keys to drop. Computed off the dataplane's loop (a pass over both snapshots'
/// key indexes), so the loop applies only what changed — after a full map that changed a few peers, a few peers.
/// </summary>
internal sealed class PeerRegistryDiff
{
    private PeerRegistryDiff(IReadOnlyList<RegistryPeer> upserts, IReadOnlyList<WireGuardKey> removals)
    {
        Upserts = upserts;
        Removals = removals;
    }

    /// <summary>Entries of the newer snapshot that the older one does not hold as the same instance, in the newer one's order.</summary>
    public IReadOnlyList<RegistryPeer> Upserts { get; }

    /// <summary>Node keys of the older snapshot that the newer one does not hold.</summary>
    public IReadOnlyList<WireGuardKey> Removals { get; }

    /// <summary>True when the two snapshots hold the same entries.</summary>
    public bool IsEmpty => Upserts.Count == 0 && Removals.Count == 0;

    /// <summary>The changes that turn <paramref name="older"/>'s peers into <paramref name="newer"/>'s.</summary>
    public static PeerRegistryDiff Between(PeerRegistrySnapshot older, PeerRegistrySnapshot newer)
    {
        ArgumentNullException.ThrowIfNull(older);
        ArgumentNullException.ThrowIfNull(newer);
        var upserts = new List<RegistryPeer>();
        foreach (var peer in newer.Peers)
        {
            if (!older.TryGet(peer.NodeKey, out var held) || !ReferenceEquals(held, peer))
            {
                upserts.Add(peer);
            }
        }

        var removals = new List<WireGuardKey>();
        foreach (var peer in older.Peers)
        {
            if (!newer.TryGet(peer.NodeKey, out _))
            {
                removals.Add(peer.NodeKey);
            }
        }

        return new PeerRegistryDiff(upserts, removals);
    }
}
