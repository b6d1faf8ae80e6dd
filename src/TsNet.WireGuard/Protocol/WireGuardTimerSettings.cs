namespace TsNet.WireGuard.Protocol;

/// <summary>
/// The protocol's time and message constants (wireguard.md §8). Defaults are the specification values;
/// tests shorten them to observe rekeys without waiting minutes. Not public API.
/// </summary>
internal sealed record WireGuardTimerSettings
{
    /// <summary>Specification defaults.</summary>
    public static WireGuardTimerSettings Default { get; } = new();

    public TimeSpan RekeyAfterTime { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan RejectAfterTime { get; init; } = TimeSpan.FromSeconds(180);
    public TimeSpan RekeyAttemptTime { get; init; } = TimeSpan.FromSeconds(90);
    public TimeSpan RekeyTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan KeepaliveTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan CookieRefreshTime { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Minimum spacing of consumed initiations per peer (flood rule; 50 per second).</summary>
    public TimeSpan HandshakeInitiationRate { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long "under load" persists once triggered.</summary>
    public TimeSpan UnderLoadAfterTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound (exclusive) of the random jitter added to handshake timers (wireguard-go: 334 ms).</summary>
    public TimeSpan MaxTimerJitter { get; init; } = TimeSpan.FromMilliseconds(334);

    public ulong RekeyAfterMessages { get; init; } = 1UL << 60;

    /// <summary>2^64 − 2^13 − 1, as wireguard-go.</summary>
    public ulong RejectAfterMessages { get; init; } = ulong.MaxValue - (1UL << 13);

    /// <summary>Initiations retried before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT (18).</summary>
    public int MaxTimerHandshakes => (int)(RekeyAttemptTime.Ticks / RekeyTimeout.Ticks);
}
