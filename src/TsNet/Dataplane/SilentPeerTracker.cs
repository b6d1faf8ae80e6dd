using System.Net;
using TsNet.Registry;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane;

/// <summary>A peer whose handshakes went unanswered for the handshake bound: the entry it was configured from, the
/// endpoint the handshakes went to, and how long they had gone unanswered when it was marked.</summary>
internal sealed record SilentPeer(RegistryPeer? Entry, IPEndPoint? Endpoint, TimeSpan Unanswered);

/// <summary>
/// Which peers are silent: no session, and handshake initiations to them unanswered for at least the handshake bound.
/// UDP sends to the addresses such a peer routes fail at once, naming it, instead of waiting in its staged queue to
/// be dropped. A peer stops being silent when a handshake with it completes, when the WireGuard core gives up on it
/// (its retries ran out: the next send starts a fresh attempt with a fresh bound), or when its configuration changes.
/// </summary>
/// <remarks>
/// Written on the dataplane's task from the core's handshake events (at most one per peer per 5 s, never per
/// packet); read by senders on any thread without a lock: the published table is replaced, never changed, and is
/// null while no peer is silent.
/// </remarks>
internal sealed class SilentPeerTracker
{
    /// <summary>When the first unanswered initiation of the current attempt went out (core ticks); dataplane task only.</summary>
    private readonly Dictionary<WireGuardPeer, long> _unansweredSince = new(ReferenceEqualityComparer.Instance);
    private readonly Func<RegistryPeer, bool> _isCurrent;
    private readonly TimeSpan _rejectAfter;
    private volatile Dictionary<WireGuardKey, SilentPeer>? _silent;

    /// <param name="isCurrent">Whether a registry entry is still the registry's entry for its key (stale marks go).</param>
    /// <param name="rejectAfter">Age at which a session's keypair no longer sends (REJECT_AFTER_TIME).</param>
    public SilentPeerTracker(Func<RegistryPeer, bool> isCurrent, TimeSpan rejectAfter)
    {
        _isCurrent = isCurrent;
        _rejectAfter = rejectAfter;
    }

    /// <summary>The mark of <paramref name="entry"/>'s peer, or null when it is not silent (any thread, no allocation).</summary>
    public SilentPeer? Find(RegistryPeer entry)
    {
        var silent = _silent;
        return silent is not null
            && silent.TryGetValue(entry.NodeKey, out var mark)
            && (mark.Entry is null || ReferenceEquals(mark.Entry, entry))
            ? mark
            : null;
    }

    /// <summary>
    /// Dataplane task, after a handshake initiation went out: the first one without a usable session starts the
    /// attempt; a later one (retries and sends start one every 5 s) marks the peer once the attempt has lasted
    /// <paramref name="bound"/>.
    /// </summary>
    public void OnInitiationSent(WireGuardPeer peer, long now, TimeSpan bound)
    {
        if (peer.Current is { } current && now - current.Created < _rejectAfter.Ticks)
        {
            // A rekey of a working session: data still flows with the current keypair.
            return;
        }

        if (!_unansweredSince.TryGetValue(peer, out var since))
        {
            SweepRemoved();
            _unansweredSince[peer] = now;
            return;
        }

        if (now - since < bound.Ticks)
        {
            return;
        }

        var entry = (peer.Tag as PeerSettings)?.Entry;
        var key = new WireGuardKey(peer.PublicKey);
        if (_silent is { } silent && silent.TryGetValue(key, out var marked) && ReferenceEquals(marked.Entry, entry))
        {
            return;
        }

        var endpoint = peer.Endpoint.IsSet ? peer.Endpoint.ToIPEndPoint() : null;
        Publish(key, new SilentPeer(entry, endpoint, TimeSpan.FromTicks(now - since)));
    }

    /// <summary>Dataplane task: a handshake completed, or the core gave up on the peer; it is not silent (any more).</summary>
    public void OnHandshakeEnded(WireGuardPeer peer)
    {
        _unansweredSince.Remove(peer);
        if (_silent is { } silent && silent.ContainsKey(new WireGuardKey(peer.PublicKey)))
        {
            Publish(new WireGuardKey(peer.PublicKey), null);
        }
    }

    /// <summary>Replaces the published table with <paramref name="key"/> set to <paramref name="mark"/> (null: removed),
    /// dropping marks whose registry entries were replaced or removed.</summary>
    private void Publish(WireGuardKey key, SilentPeer? mark)
    {
        var next = new Dictionary<WireGuardKey, SilentPeer>();
        if (_silent is { } current)
        {
            foreach (var (k, v) in current)
            {
                if (!k.Equals(key) && (v.Entry is null || _isCurrent(v.Entry)))
                {
                    next[k] = v;
                }
            }
        }

        if (mark is not null)
        {
            next[key] = mark;
        }

        _silent = next.Count == 0 ? null : next;
    }

    /// <summary>Forgets attempts of peers the core removed (they raise no more events).</summary>
    private void SweepRemoved()
    {
        foreach (var peer in _unansweredSince.Keys)
        {
            if (peer.Removed)
            {
                _unansweredSince.Remove(peer);
            }
        }
    }
}
