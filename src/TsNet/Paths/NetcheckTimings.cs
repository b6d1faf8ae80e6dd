namespace TsNet.Paths;

/// <summary>The timers of netcheck (derp.md §6.4, disco-direct.md §3.2), defaults as Tailscale's. Tests shorten them.</summary>
internal sealed record NetcheckTimings
{
    /// <summary>The defaults.</summary>
    public static NetcheckTimings Default { get; } = new();

    /// <summary>Shortest wait before a STUN probe is sent again (UDP loses packets; one retransmit is cheap).</summary>
    public TimeSpan RetransmitMin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait before a STUN probe is sent again (the wait is random in between).</summary>
    public TimeSpan RetransmitMax { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A probe without a response after this long counts as failed.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Shortest gap between reports (periodic re-STUN is random 20–26 s, so NAT mappings stay fresh).</summary>
    public TimeSpan ReportIntervalMin { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Longest gap between reports.</summary>
    public TimeSpan ReportIntervalMax { get; init; } = TimeSpan.FromSeconds(26);

    /// <summary>Keep the old home unless the new best is at least this much faster (hysteresis).</summary>
    public TimeSpan HomeSwitchMinImprovement { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long a region's measured latency counts towards its score (best over recent reports).</summary>
    public TimeSpan LatencyRetention { get; init; } = TimeSpan.FromSeconds(305);
}
