namespace TsNet.WireGuard.Protocol;

// Timer hooks named for the event (wireguard-go timers.go) and expiry handlers named for what expired.
// Deadlines live in PeerTimers; peers sit in a priority queue under their earliest deadline. Entries are never
// removed early: a popped entry whose deadline no longer matches the peer's ScheduledAt is stale and skipped.
internal sealed partial class WireGuardEndpoint
{
    private readonly PriorityQueue<WireGuardPeer, long> _timerQueue = new();

    /// <summary>The earliest time <see cref="Poll"/> has work, or <see cref="Timestamps.NotArmed"/>.</summary>
    public long NextDeadline
    {
        get
        {
            while (_timerQueue.TryPeek(out var peer, out var deadline))
            {
                if (!peer.Removed && deadline == peer.ScheduledAt)
                {
                    return deadline;
                }

                _timerQueue.Dequeue();
            }

            return Timestamps.NotArmed;
        }
    }

    /// <summary>Runs every timer that expired at or before <paramref name="now"/>.</summary>
    public void Poll(long now, IWireGuardOutput output)
    {
        // Bounded: each queued entry is looked at once per call; re-armed timers land in the future.
        var budget = _timerQueue.Count;
        while (budget-- > 0 && _timerQueue.TryPeek(out var peer, out var deadline) && deadline <= now)
        {
            _timerQueue.Dequeue();
            if (peer.Removed || deadline != peer.ScheduledAt)
            {
                continue;
            }

            peer.ScheduledAt = Timestamps.NotArmed;
            RunExpiredTimers(peer, now, output);
            Reschedule(peer);
        }
    }

    private void RunExpiredTimers(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        var timers = peer.Timers;
        if (timers.RetransmitHandshake <= now)
        {
            timers.RetransmitHandshake = Timestamps.NotArmed;
            ExpiredRetransmitHandshake(peer, now, output);
        }

        if (timers.SendKeepalive <= now)
        {
            timers.SendKeepalive = Timestamps.NotArmed;
            ExpiredSendKeepalive(peer, now, output);
        }

        if (timers.NewHandshake <= now)
        {
            timers.NewHandshake = Timestamps.NotArmed;
            ExpiredNewHandshake(peer, now, output);
        }

        if (timers.ZeroKeyMaterial <= now)
        {
            timers.ZeroKeyMaterial = Timestamps.NotArmed;
            ExpiredZeroKeyMaterial(peer);
        }

        if (timers.PersistentKeepalive <= now)
        {
            timers.PersistentKeepalive = Timestamps.NotArmed;
            ExpiredPersistentKeepalive(peer, now, output);
        }
    }

    /// <summary>Puts the peer in the timer queue under its earliest deadline if that moved earlier.</summary>
    private void Reschedule(WireGuardPeer peer)
    {
        if (peer.Removed)
        {
            return;
        }

        var earliest = peer.Timers.Earliest;
        if (earliest < peer.ScheduledAt)
        {
            peer.ScheduledAt = earliest;
            _timerQueue.Enqueue(peer, earliest);
        }
    }

    // ---- expiry handlers ----

    private void ExpiredRetransmitHandshake(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        var timers = peer.Timers;
        if (timers.HandshakeAttempts > _timers.MaxTimerHandshakes)
        {
            // Give up after REKEY_ATTEMPT_TIME: drop what waited, and wipe any half-made session later.
            timers.SendKeepalive = Timestamps.NotArmed;
            FlushStagedPackets(peer, WireGuardDropReason.HandshakeGaveUp);
            if (timers.ZeroKeyMaterial == Timestamps.NotArmed)
            {
                timers.ZeroKeyMaterial = now + (3 * _timers.RejectAfterTime.Ticks);
            }

            HandshakeGaveUp?.Invoke(peer);
            return;
        }

        timers.HandshakeAttempts++;
        HandshakeRetrying?.Invoke(peer);
        SendHandshakeInitiation(peer, isRetry: true, now, output);
    }

    private void ExpiredSendKeepalive(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        SendKeepalive(peer, now, output);
        if (peer.Timers.NeedAnotherKeepalive)
        {
            peer.Timers.NeedAnotherKeepalive = false;
            peer.Timers.SendKeepalive = now + _timers.KeepaliveTimeout.Ticks;
        }
    }

    private void ExpiredNewHandshake(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        // We sent data and heard nothing back: the session may be dead on the other side.
        SendHandshakeInitiation(peer, isRetry: false, now, output);
    }

    private void ExpiredZeroKeyMaterial(WireGuardPeer peer) => ZeroAndFlushAll(peer);

    private void ExpiredPersistentKeepalive(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        if (peer.PersistentKeepaliveInterval > TimeSpan.Zero)
        {
            SendKeepalive(peer, now, output);
        }
    }

    /// <summary>Raised when a peer's handshake retries ran out (the owner may re-resolve the peer's host name).</summary>
    public event Action<WireGuardPeer>? HandshakeGaveUp;

    /// <summary>Raised before each handshake retry.</summary>
    public event Action<WireGuardPeer>? HandshakeRetrying;

    /// <summary>Raised when a handshake with a peer completed (a new session exists).</summary>
    public event Action<WireGuardPeer>? HandshakeCompleted;

    /// <summary>Raised after a handshake initiation went out to a peer (a first one or a retry).</summary>
    public event Action<WireGuardPeer>? HandshakeInitiationSent;

    // ---- event hooks ----

    private void TimersDataSent(WireGuardPeer peer, long now)
    {
        if (peer.Timers.NewHandshake == Timestamps.NotArmed)
        {
            peer.Timers.NewHandshake = now + _timers.KeepaliveTimeout.Ticks + _timers.RekeyTimeout.Ticks + Jitter();
        }
    }

    private void TimersDataReceived(WireGuardPeer peer, long now)
    {
        if (peer.Timers.SendKeepalive == Timestamps.NotArmed)
        {
            peer.Timers.SendKeepalive = now + _timers.KeepaliveTimeout.Ticks;
        }
        else
        {
            peer.Timers.NeedAnotherKeepalive = true;
        }
    }

    private static void TimersAnyAuthenticatedPacketSent(WireGuardPeer peer) =>
        peer.Timers.SendKeepalive = Timestamps.NotArmed;

    private static void TimersAnyAuthenticatedPacketReceived(WireGuardPeer peer) =>
        peer.Timers.NewHandshake = Timestamps.NotArmed;

    private void TimersHandshakeInitiated(WireGuardPeer peer, long now) =>
        peer.Timers.RetransmitHandshake = now + _timers.RekeyTimeout.Ticks + Jitter();

    private void TimersHandshakeComplete(WireGuardPeer peer, long now)
    {
        peer.Timers.RetransmitHandshake = Timestamps.NotArmed;
        peer.Timers.HandshakeAttempts = 0;
        peer.Timers.SentLastMinuteHandshake = false;
        peer.LastHandshakeAt = now;
        peer.HandshakesCompleted++;
        HandshakeCompleted?.Invoke(peer);
    }

    private void TimersSessionDerived(WireGuardPeer peer, long now) =>
        peer.Timers.ZeroKeyMaterial = now + (3 * _timers.RejectAfterTime.Ticks);

    private static void TimersAnyAuthenticatedPacketTraversal(WireGuardPeer peer, long now)
    {
        if (peer.PersistentKeepaliveInterval > TimeSpan.Zero)
        {
            peer.Timers.PersistentKeepalive = now + peer.PersistentKeepaliveInterval.Ticks;
        }
    }
}
