using System.Net;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>Settings of a <see cref="NetstackCore"/>; read once when the core is created.</summary>
internal sealed class NetstackOptions
{
    /// <summary>Default tunnel MTU: the IPv6 minimum link MTU, which fits inside any underlay with room for
    /// WireGuard's 60–80 bytes of overhead (Tailscale uses the same value).</summary>
    public const int DefaultMtu = 1280;

    /// <summary>Smallest MTU accepted: the IPv4 minimum reassembly size (RFC 791).</summary>
    public const int MinimumMtu = 576;

    /// <summary>Smallest MTU accepted when an IPv6 address is configured (RFC 8200 §5).</summary>
    public const int MinimumIpv6Mtu = 1280;

    /// <summary>
    /// The node's addresses at start; packets to any other address are dropped. Empty by default. They can change
    /// while running (<see cref="NetstackLoop.SetAddressesAsync"/>).
    /// </summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = [];

    /// <summary>Largest IP packet the netstack sends (default <see cref="DefaultMtu"/>).</summary>
    public int Mtu { get; init; } = DefaultMtu;

    /// <summary>Pool for the packets the netstack builds (default <see cref="PacketBufferPool.Shared"/>).</summary>
    public PacketBufferPool Pool { get; init; } = PacketBufferPool.Shared;

    /// <summary>Packets waiting for the dataplane, at most; more are dropped and counted (default 1024, design §5).</summary>
    public int OutboundQueueCapacity { get; init; } = 1024;

    /// <summary>Matched echo replies waiting to be collected, at most (default 256: pings are rare and small).</summary>
    public int EchoReplyQueueCapacity { get; init; } = 256;

    /// <summary>Echo requests awaiting a reply, at most (default 1024), so a flood of unanswered pings has a bound.</summary>
    public int MaxPendingEchoRequests { get; init; } = 1024;

    /// <summary>Ticks per second of the <c>now</c> values the core is given: the <see cref="TimeProvider.TimestampFrequency"/>
    /// of the clock that drives it (default <see cref="System.Diagnostics.Stopwatch.Frequency"/>, the system clock's).</summary>
    public long TimestampFrequency { get; init; } = System.Diagnostics.Stopwatch.Frequency;

    /// <summary>UDP settings (receive queue per socket, ephemeral port range).</summary>
    public UdpOptions Udp { get; init; } = new();

    /// <summary>ICMP error settings (rate limit, path MTU table).</summary>
    public IcmpErrorOptions IcmpErrors { get; init; } = new();

    /// <summary>Most TCP connections at once, in any state (design §5: 65 536).</summary>
    public int MaxTcpConnections { get; init; } = 65536;

    /// <summary>Pending (handshaking or not yet accepted) connections per TCP listener (design §5: 128).</summary>
    public int TcpListenBacklog { get; init; } = 128;

    /// <summary>TCP tuning (buffers, timers); the MTU is taken from <see cref="Mtu"/>.</summary>
    public TsNet.Netstack.Tcp.TcpConfig TcpTuning { get; init; } = TsNet.Netstack.Tcp.TcpConfig.Default;
}
