using System.Collections.Concurrent;
using System.Net;
using TsNet.Registry;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane;

/// <summary>A handshake attempt with a peer that has no usable session: since when (a <see cref="TimeProvider"/>
/// timestamp of the first unanswered initiation), where the initiations go, and the registry entry it was made for.</summary>
internal sealed record HandshakeAttempt(WireGuardPeer Peer, RegistryPeer? Entry, IPEndPoint? Endpoint, long StartedAt);

/// <summary>
/// Which peers are silent: no usable session, and the first handshake initiation of the current attempt went out at
/// least the handshake bound ago. UDP sends to the addresses such a peer routes fail at once, naming it, instead of
/// waiting in its staged queue to be dropped. An attempt ends when a handshake completes or the WireGuard core gives
/// up on the peer (its retries ran out: the next send starts a new attempt with a new bound). A peer removed and added
/// again is a new peer with a new attempt; a replaced registry entry (the same peer reconfigured) keeps its attempt,
/// which is matched to the new entry at the next initiation (so stale attempts never refuse a send).
/// </summary>
/// <remarks>
/// Written on the dataplane's task from the core's handshake events (at most one initiation per peer per 5 s, never
/// per packet); read by senders on any thread: a lock-free lookup and a clock read, no allocation.
/// </remarks>
internal sealed class SilentPeerTracker
{
    private readonly ConcurrentDictionary<WireGuardKey, HandshakeAttempt> _attempts = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _rejectAfter;
    private int _sweepAt = 64;

    /// <param name="time">The node's clock (the bound is measured on it).</param>
    /// <param name="rejectAfter">Age at which a session's keypair no longer sends (REJECT_AFTER_TIME).</param>
    public SilentPeerTracker(TimeProvider time, TimeSpan rejectAfter)
    {
        _time = time;
        _rejectAfter = rejectAfter;
    }

    /// <summary>
    /// The attempt that makes <paramref name="entry"/>'s peer silent: started at least <paramref name="bound"/> ago
    /// for this very entry. Null when the peer has a session or has been tried for less (any thread).
    /// </summary>
    public HandshakeAttempt? FindSilent(RegistryPeer entry, TimeSpan bound) =>
        _attempts.TryGetValue(entry.NodeKey, out var attempt)
            && (attempt.Entry is null || ReferenceEquals(attempt.Entry, entry))
            && _time.GetElapsedTime(attempt.StartedAt) >= bound
            ? attempt
            : null;

    /// <summary>
    /// Dataplane task, after a handshake initiation went out: the first one without a usable session starts an attempt.
    /// </summary>
    /// <param name="peer">The peer.</param>
    /// <param name="now">Core time of the initiation (100 ns ticks).</param>
    public void OnInitiationSent(WireGuardPeer peer, long now)
    {
        if (peer.Current is { } current && now - current.Created < _rejectAfter.Ticks)
        {
            // A rekey of a working session: data still flows with the current keypair.
            return;
        }

        var key = new WireGuardKey(peer.PublicKey);
        var entry = (peer.Tag as PeerSettings)?.Entry;
        if (_attempts.TryGetValue(key, out var attempt) && ReferenceEquals(attempt.Peer, peer))
        {
            if (!ReferenceEquals(attempt.Entry, entry))
            {
                // The peer's entry was replaced (a netmap, an AddOrUpdatePeer): the same attempt goes on, for the new
                // entry. Until this initiation, senders did not match the old entry and their datagrams were queued.
                _attempts[key] = attempt with { Entry = entry, Endpoint = EndpointOf(peer) };
            }

            return;
        }

        // No attempt, or one for a peer the core removed since (this is a new one with the same key).
        SweepRemoved();
        _attempts[key] = new HandshakeAttempt(peer, entry, EndpointOf(peer), _time.GetTimestamp());
    }

    /// <summary>Dataplane task: a handshake completed, or the core gave up on the peer; its attempt is over.</summary>
    public void OnHandshakeEnded(WireGuardPeer peer)
    {
        var key = new WireGuardKey(peer.PublicKey);
        if (_attempts.TryGetValue(key, out var attempt) && ReferenceEquals(attempt.Peer, peer))
        {
            _attempts.TryRemove(key, out _);
        }
    }

    private static IPEndPoint? EndpointOf(WireGuardPeer peer) => peer.Endpoint.IsSet && !peer.Endpoint.IsPeerPath ? peer.Endpoint.ToIPEndPoint() : null;

    /// <summary>Forgets attempts of peers the core removed (they raise no more events); amortized, when the table doubled.</summary>
    private void SweepRemoved()
    {
        if (_attempts.Count < _sweepAt)
        {
            return;
        }

        foreach (var (key, attempt) in _attempts)
        {
            if (attempt.Peer.Removed)
            {
                _attempts.TryRemove(key, out _);
            }
        }

        _sweepAt = Math.Max(64, 2 * _attempts.Count);
    }
}
