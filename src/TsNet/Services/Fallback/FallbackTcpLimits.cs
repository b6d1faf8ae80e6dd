namespace TsNet.Services.Fallback;

/// <summary>Bounds of the fallback TCP service (design §5).</summary>
internal sealed record FallbackTcpLimits
{
    /// <summary>Claimed flows in flight (handshaking or being served) per destination port; more get a RST.</summary>
    public int MaxInFlightPerPort { get; init; } = 512;

    /// <summary>Destination ports with live state at once; a SYN to another port gets a RST until one is reaped.</summary>
    public int MaxPorts { get; init; } = 1024;

    /// <summary>How long a port's state outlives its last flow.</summary>
    public TimeSpan IdleReap { get; init; } = TimeSpan.FromSeconds(120);
}
