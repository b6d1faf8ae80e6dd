namespace TsNet.Metrics;

/// <summary>
/// The figures the <c>TsNet</c> meter reports, read once per collection from counters the node keeps anyway (the
/// status snapshot, the netstack's packet counters): publishing them adds nothing to the per-packet path.
/// </summary>
internal sealed class TailnetMetricsSnapshot
{
    /// <summary>An idle or stopped node: every figure zero.</summary>
    public static TailnetMetricsSnapshot Empty { get; } = new();

    /// <summary>Underlay bytes received from current peers (authenticated WireGuard messages).</summary>
    public long ReceivedBytes { get; init; }

    /// <summary>Underlay bytes sent to current peers.</summary>
    public long TransmittedBytes { get; init; }

    /// <summary>Inner IP packets that came out of WireGuard into the netstack.</summary>
    public long ReceivedPackets { get; init; }

    /// <summary>Inner IP packets the netstack handed to WireGuard.</summary>
    public long TransmittedPackets { get; init; }

    /// <summary>Completed WireGuard handshakes with current peers.</summary>
    public long Handshakes { get; init; }

    /// <summary>Peers with an established WireGuard session.</summary>
    public long Sessions { get; init; }

    /// <summary>Open TCP connections of the netstack.</summary>
    public long TcpConnections { get; init; }

    /// <summary>Peers by the kind of path they use: <c>direct</c>, <c>relay</c>, <c>derp</c>, <c>none</c>.</summary>
    public IReadOnlyDictionary<string, long> PeersByPath { get; init; } = new Dictionary<string, long>();

    /// <summary>Dropped packets by reason, as <see cref="TailnetStatus.Drops"/> names them.</summary>
    public IReadOnlyDictionary<string, long> Drops { get; init; } = new Dictionary<string, long>();

    /// <summary>Endpoints allocated on the relay servers this node runs.</summary>
    public long RelayEndpoints { get; init; }
}
