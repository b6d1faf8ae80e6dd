using TsNet.Packets.Buffers;

namespace TsNet.WireGuard.Protocol;

/// <summary>Construction parameters of <see cref="WireGuardEndpoint"/>.</summary>
internal sealed class WireGuardEndpointOptions
{
    public required byte[] PrivateKey { get; init; }

    public WireGuardTimerSettings Timers { get; init; } = WireGuardTimerSettings.Default;

    public PacketBufferPool Pool { get; init; } = PacketBufferPool.Shared;

    /// <summary>Tunnel MTU, bounds the padding of transport plaintext (0 = pad without bound).</summary>
    public int Mtu { get; init; } = 1280;

    /// <summary>Pending handshake messages at which we count as under load (wireguard-go: 1024/8); 0 = always.</summary>
    public int UnderLoadThreshold { get; init; } = 128;

    /// <summary>Staged packets kept per peer while no session exists (wireguard-go: 128).</summary>
    public int MaxStagedPackets { get; init; } = 128;

    /// <summary>Most peers (wireguard-go MaxPeers).</summary>
    public int MaxPeers { get; init; } = 65536;

    /// <summary>Wall clock for TAI64N timestamps.</summary>
    public TimeProvider WallClock { get; init; } = TimeProvider.System;

    /// <summary>Source of timer jitter (seedable in tests).</summary>
    public Random Random { get; init; } = Random.Shared;
}
