namespace TsNet;

/// <summary>
/// The bounds a node keeps on every queue, table and per-connection resource (design §5). The defaults suit a
/// server-side app; lower them on small devices or raise them for a busy subnet router. Frozen when the
/// <see cref="TailnetServer"/> is constructed.
/// </summary>
public sealed class TailnetLimits
{
    /// <summary>TCP connections at once, in any state; a SYN beyond it is dropped (the peer retries). Default 65 536.</summary>
    public int MaxTcpConnections { get; set; } = 65536;

    /// <summary>Handshaking or not-yet-accepted connections per listener; SYNs beyond it are dropped. Default 128.</summary>
    public int TcpListenBacklog { get; set; } = 128;

    /// <summary>Initial TCP send and receive buffer per connection, autotuned up to <see cref="TcpMaxBufferSize"/>. Default 64 KiB.</summary>
    public int TcpInitialBufferSize { get; set; } = 64 * 1024;

    /// <summary>Largest TCP send and receive buffer per connection after autotuning. Default 4 MiB.</summary>
    public int TcpMaxBufferSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Datagrams queued per UDP socket before newer ones are dropped. Default 512.</summary>
    public int UdpReceiveQueueCapacity { get; set; } = 512;

    /// <summary>Fallback-handler flows in flight per destination port (over: RST). Default 512.</summary>
    public int FallbackTcpMaxInFlightPerPort { get; set; } = 512;

    /// <summary>Destination ports with live fallback state (over: RST). Default 1024.</summary>
    public int FallbackTcpMaxPorts { get; set; } = 1024;

    /// <summary>How long a port's fallback state outlives its last flow. Default 120 s.</summary>
    public TimeSpan FallbackTcpIdleReap { get; set; } = TimeSpan.FromSeconds(120);

    internal TailnetLimits Validated()
    {
        Positive(MaxTcpConnections, nameof(MaxTcpConnections));
        Positive(TcpListenBacklog, nameof(TcpListenBacklog));
        Positive(UdpReceiveQueueCapacity, nameof(UdpReceiveQueueCapacity));
        Positive(FallbackTcpMaxInFlightPerPort, nameof(FallbackTcpMaxInFlightPerPort));
        Positive(FallbackTcpMaxPorts, nameof(FallbackTcpMaxPorts));
        if (TcpInitialBufferSize < 4096 || TcpMaxBufferSize < TcpInitialBufferSize || TcpMaxBufferSize > 1 << 30)
        {
            throw new ArgumentException(
                $"TCP buffer sizes must satisfy 4096 <= TcpInitialBufferSize ({TcpInitialBufferSize}) <= TcpMaxBufferSize ({TcpMaxBufferSize}) <= 1 GiB.");
        }

        if (FallbackTcpIdleReap <= TimeSpan.Zero)
        {
            throw new ArgumentException("Limits.FallbackTcpIdleReap must be positive.");
        }

        return (TailnetLimits)MemberwiseClone();
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentException($"Limits.{name} must be positive (it is {value}).");
        }
    }
}
