using TsNet.Registry;

namespace TsNet.Control.Netmap;

/// <summary>
/// What one map message changed: the new <see cref="Netmap"/> and the registry change to publish with it, either
/// every peer (<see cref="IsFull"/>, for <see cref="PeerRegistry.Reconcile"/>) or a delta (for
/// <see cref="PeerRegistry.ApplyDelta"/>). <see cref="ApplyTo"/> picks the right one.
/// </summary>
internal sealed class NetmapUpdate
{
    /// <summary>The map after this message.</summary>
    public required Netmap Netmap { get; init; }

    /// <summary>True: <see cref="AllPeers"/> replaces the registry's peers; false: apply the delta.</summary>
    public required bool IsFull { get; init; }

    /// <summary>Every registry peer (when <see cref="IsFull"/>).</summary>
    public IReadOnlyList<RegistryPeer> AllPeers { get; init; } = [];

    /// <summary>Peers added or replaced (delta).</summary>
    public IReadOnlyList<RegistryPeer> Upserts { get; init; } = [];

    /// <summary>Node keys removed (delta; also a peer's previous key when its key changed).</summary>
    public IReadOnlyList<WireGuardKey> Removals { get; init; } = [];

    /// <summary>The self node changed (addresses, name, key expiry, …).</summary>
    public bool SelfChanged { get; init; }

    /// <summary>The effective packet filter may have changed.</summary>
    public bool FilterChanged { get; init; }

    /// <summary>The DERP map changed.</summary>
    public bool DerpMapChanged { get; init; }

    /// <summary>The DNS configuration changed.</summary>
    public bool DnsChanged { get; init; }

    /// <summary>Peers of the map left out of the registry: no or bad node key, expired, a key another peer has.</summary>
    public int SkippedPeers { get; init; }

    /// <summary>True when the registry needs no change.</summary>
    public bool RegistryUnchanged => !IsFull && Upserts.Count == 0 && Removals.Count == 0;

    /// <summary>Publishes the registry change as one snapshot; null when there was nothing to publish.</summary>
    public PeerRegistrySnapshot? ApplyTo(PeerRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (IsFull)
        {
            // Peers the map sent unchanged are the same entries as before: only the difference changes the registry.
            return registry.Reconcile(AllPeers);
        }

        return RegistryUnchanged ? null : registry.ApplyDelta(Upserts, Removals);
    }
}
