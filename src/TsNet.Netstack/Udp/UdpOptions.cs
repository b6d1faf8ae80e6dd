namespace TsNet.Netstack;

/// <summary>UDP settings of a <see cref="NetstackCore"/> (part of <see cref="NetstackOptions"/>).</summary>
internal sealed class UdpOptions
{
    /// <summary>Default receive queue per socket, in datagrams (design §5).</summary>
    public const int DefaultReceiveQueueCapacity = 512;

    /// <summary>First port of the IANA dynamic range (RFC 6335 §6), where port 0 binds pick from.</summary>
    public const int DefaultEphemeralFirstPort = 49152;

    /// <summary>Last port of the IANA dynamic range.</summary>
    public const int DefaultEphemeralLastPort = 65535;

    /// <summary>Datagrams a socket holds for the application, at most; more are dropped and counted (default 512).</summary>
    public int ReceiveQueueCapacity { get; init; } = DefaultReceiveQueueCapacity;

    /// <summary>First port a port-0 bind may get (default 49152).</summary>
    public int EphemeralFirstPort { get; init; } = DefaultEphemeralFirstPort;

    /// <summary>Last port a port-0 bind may get (default 65535).</summary>
    public int EphemeralLastPort { get; init; } = DefaultEphemeralLastPort;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveQueueCapacity, 1, nameof(ReceiveQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(EphemeralFirstPort, 1, nameof(EphemeralFirstPort));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(EphemeralLastPort, ushort.MaxValue, nameof(EphemeralLastPort));
        ArgumentOutOfRangeException.ThrowIfLessThan(EphemeralLastPort, EphemeralFirstPort, nameof(EphemeralLastPort));
    }
}
