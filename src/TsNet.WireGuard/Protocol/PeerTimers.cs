namespace TsNet.WireGuard.Protocol;

/// <summary>
/// The five per-peer timers of wireguard-go (wireguard.md §9) as absolute deadlines in core ticks
/// (<see cref="Timestamps.NotArmed"/> when off), plus the flags the expiry handlers consult.
/// </summary>
internal sealed class PeerTimers
{
    /// <summary>Resend a fresh initiation when no response arrived (REKEY_TIMEOUT + jitter).</summary>
    public long RetransmitHandshake { get; set; } = Timestamps.NotArmed;

    /// <summary>Passive keepalive: answer received data with a keepalive if we send nothing for KEEPALIVE_TIMEOUT.</summary>
    public long SendKeepalive { get; set; } = Timestamps.NotArmed;

    /// <summary>We sent data and heard nothing back for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter: start over.</summary>
    public long NewHandshake { get; set; } = Timestamps.NotArmed;

    /// <summary>Wipe all keys 3 × REJECT_AFTER_TIME after the last session derivation.</summary>
    public long ZeroKeyMaterial { get; set; } = Timestamps.NotArmed;

    /// <summary>Keepalive every configured interval after any authenticated traffic (keeps NAT mappings open).</summary>
    public long PersistentKeepalive { get; set; } = Timestamps.NotArmed;

    public int HandshakeAttempts { get; set; }

    public bool NeedAnotherKeepalive { get; set; }

    public bool SentLastMinuteHandshake { get; set; }

    /// <summary>Earliest armed deadline, or <see cref="Timestamps.NotArmed"/>.</summary>
    public long Earliest => Math.Min(
        Math.Min(RetransmitHandshake, SendKeepalive),
        Math.Min(Math.Min(NewHandshake, ZeroKeyMaterial), PersistentKeepalive));

    public void DisarmAll()
    {
        RetransmitHandshake = Timestamps.NotArmed;
        SendKeepalive = Timestamps.NotArmed;
        NewHandshake = Timestamps.NotArmed;
        ZeroKeyMaterial = Timestamps.NotArmed;
        PersistentKeepalive = Timestamps.NotArmed;
    }
}
