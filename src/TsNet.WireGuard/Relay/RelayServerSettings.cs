namespace TsNet.WireGuard.Relay;

/// <summary>Lifetimes and limits of a <see cref="RelayServerCore"/>.</summary>
internal sealed record RelayServerSettings
{
    /// <summary>An endpoint not bound on both legs this long after allocation expires (tailscale: 30 s).</summary>
    public TimeSpan BindLifetime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A bound endpoint expires when either leg has been silent this long (tailscale: 5 min).</summary>
    public TimeSpan SteadyStateLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Challenge secrets are replaced when older than this; the previous one stays valid (tailscale: 2 min).</summary>
    public TimeSpan ChallengeSecretRotation { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Units of the <c>now</c> arguments per second (a <see cref="TimeProvider"/>'s timestamp frequency).</summary>
    public long TimestampFrequency { get; init; } = TimeSpan.TicksPerSecond;

    /// <summary>Largest VNI handed out; smaller only in tests of wraparound and exhaustion.</summary>
    public uint MaxVni { get; init; } = GeneveHeader.MaxVni;
}
