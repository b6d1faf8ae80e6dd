namespace TsNet.Paths;

/// <summary>
/// The timers of the disco path algorithm (disco-direct.md §3.2), defaults as Tailscale's magicsock. Tests shorten them.
/// </summary>
internal sealed record DiscoPathTimings
{
    /// <summary>The defaults.</summary>
    public static DiscoPathTimings Default { get; } = new();

    /// <summary><c>heartbeatInterval</c>: ping the best direct address this often while data flows, so it stays trusted.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary><c>trustUDPAddrDuration</c>: after a pong, send over the direct address only for this long.</summary>
    public TimeSpan TrustUdpAddrDuration { get; init; } = TimeSpan.FromSeconds(6.5);

    /// <summary>
    /// <c>sessionActiveTimeout</c>: heartbeats stop this long after the last outbound datagram; candidates learned
    /// from pings expire after this long without one.
    /// </summary>
    public TimeSpan SessionActiveTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary><c>upgradeUDPDirectInterval</c>: re-probe every candidate this often even while a direct path works.</summary>
    public TimeSpan UpgradeUdpDirectInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><c>goodEnoughLatency</c>: at or below this, stop looking for a better path.</summary>
    public TimeSpan GoodEnoughLatency { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary><c>discoPingInterval</c>: minimum gap between discovery pings to one candidate (CallMeMaybe resets it).</summary>
    public TimeSpan DiscoPingInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>endpointsFreshEnoughDuration</c>: a CallMeMaybe goes out only if this node's endpoints were re-determined
    /// (a netcheck report finished) within this long; otherwise it waits for a re-STUN (§3.4).
    /// </summary>
    public TimeSpan EndpointsFreshEnough { get; init; } = TimeSpan.FromSeconds(27);

    /// <summary><c>pingTimeoutDuration</c>: how long a ping waits for its pong.</summary>
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
