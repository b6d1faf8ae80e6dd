using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

internal sealed partial class DiscoPathCore
{
    private readonly long _heartbeatInterval;
    private readonly long _trustDuration;
    private readonly long _sessionActiveTimeout;
    private readonly long _upgradeInterval;
    private readonly long _goodEnoughLatency;
    private readonly long _discoPingInterval;
    private readonly long _pingTimeout;
    private readonly long _endpointsFreshEnough;

    // Never later than the earliest real deadline; may be earlier (Poll then finds nothing and recomputes it).
    private long _nextDeadline = Timestamps.NotArmed;

    /// <summary>When <see cref="Poll"/> has work next; <see cref="Timestamps.NotArmed"/> when nothing is due.</summary>
    public long NextDeadline => _nextDeadline;

    /// <summary>Runs what is due: ping timeouts, expiry of learned candidates, heartbeats (with discovery rounds).</summary>
    public void Poll(long now, IPathOutput output)
    {
        long next = Timestamps.NotArmed;
        foreach (var peer in _peersById.Values)
        {
            ExpireSentPings(peer, now);
            RemoveExpiredCandidates(peer, now);
            if (peer.HeartbeatAt <= now)
            {
                Heartbeat(peer, now, output);
            }

            next = Math.Min(next, PeerDeadline(peer));
        }

        _nextDeadline = next;
    }

    /// <summary>
    /// Heartbeat (§3.5): stop when no data went out for the session timeout; otherwise ping the best address and run a
    /// full discovery round when the path is not settled (no best, never probed, trust lapsed, or slow and due an upgrade).
    /// </summary>
    private void Heartbeat(DiscoPeer peer, long now, IPathOutput output)
    {
        peer.HeartbeatAt = Timestamps.NotArmed;
        if (peer.Disco is null || now - peer.LastSendActivity > _sessionActiveTimeout)
        {
            return;
        }

        if (peer.Best.Address.IsSet && peer.FindCandidate(peer.Best.Address) is { } best)
        {
            SendPing(peer, best, now, DiscoPingPurpose.Heartbeat, output);
        }

        if (WantFullPing(peer, now))
        {
            SendDiscoPings(peer, now, sendCallMeMaybe: true, output);
        }

        peer.HeartbeatAt = now + _heartbeatInterval;
    }

    private bool WantFullPing(DiscoPeer peer, long now)
    {
        if (!peer.Best.Address.IsSet || peer.LastFullPing == Timestamps.Never || now > peer.TrustUntil)
        {
            return true;
        }

        return peer.Best.Latency > _goodEnoughLatency && now - peer.LastFullPing >= _upgradeInterval;
    }

    private void ExpireSentPings(DiscoPeer peer, long now)
    {
        for (int i = peer.SentPingCount - 1; i >= 0; i--)
        {
            if (now - peer.SentPings[i].SentAt >= _pingTimeout)
            {
                peer.RemoveSentPingAt(i);
                Counters.PingTimeouts++;
            }
        }
    }

    private long PeerDeadline(DiscoPeer peer)
    {
        long next = peer.HeartbeatAt;
        foreach (var ping in peer.SentPings)
        {
            next = Math.Min(next, ping.SentAt + _pingTimeout);
        }

        foreach (var candidate in peer.Candidates)
        {
            if (!candidate.InNetmap && candidate.CallMeMaybeTime == Timestamps.Never && candidate.LastGotPing != Timestamps.Never)
            {
                next = Math.Min(next, candidate.LastGotPing + _sessionActiveTimeout + 1);
            }
        }

        return next;
    }

    private void NoteDeadline(long deadline) => _nextDeadline = Math.Min(_nextDeadline, deadline);
}
