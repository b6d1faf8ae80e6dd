using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TsNet.Metrics;

/// <summary>
/// A node's <c>TsNet</c> meter (<see cref="MeterName"/>): observable instruments only, named and measured as
/// OpenTelemetry's conventions ask (dotted lower-case names, UCUM units). Each instrument reads a snapshot taken once
/// per collection round from counters the node already keeps, so the meter costs nothing per packet and nothing at
/// all while no listener collects. One meter per node, disposed with it.
/// </summary>
internal sealed class TailnetMetrics : IDisposable
{
    /// <summary>The meter's name, what <c>dotnet-counters monitor --counters TsNet</c> and OpenTelemetry's <c>AddMeter</c> take.</summary>
    public const string MeterName = "TsNet";

    /// <summary>Path kinds always reported for <c>tsnet.peers</c>, so each series exists from the start.</summary>
    private static readonly string[] s_pathKinds = ["direct", "relay", "derp", "none"];

    /// <summary>One collection round calls every instrument's callback in turn: they share the snapshot taken for the first.</summary>
    private static readonly TimeSpan s_snapshotReuse = TimeSpan.FromMilliseconds(100);

    private readonly Func<TailnetMetricsSnapshot?> _collect;
    private readonly object _gate = new();
    private TailnetMetricsSnapshot _last = TailnetMetricsSnapshot.Empty;
    private long _lastTakenAt = long.MinValue;
    private Func<int>? _derpConnections;
    private long _controlConnects;

    /// <param name="collect">Takes a fresh snapshot; null while the node has none to give (not started, stopped).</param>
    public TailnetMetrics(Func<TailnetMetricsSnapshot?> collect)
    {
        _collect = collect;
        Meter = new Meter(MeterName, typeof(TailnetMetrics).Assembly.GetName().Version?.ToString());
        Meter.CreateObservableCounter("tsnet.wireguard.bytes", () => ByDirection(Snapshot().ReceivedBytes, Snapshot().TransmittedBytes), "By",
            "Underlay bytes of authenticated WireGuard messages exchanged with the current peers, by direction (receive, transmit).");
        Meter.CreateObservableCounter("tsnet.wireguard.packets", () => ByDirection(Snapshot().ReceivedPackets, Snapshot().TransmittedPackets), "{packet}",
            "Inner IP packets carried through WireGuard, by direction (receive: out of a tunnel to the node; transmit: into a tunnel).");
        Meter.CreateObservableCounter("tsnet.drops", ObserveDrops, "{packet}",
            "Packets the node dropped, by reason (wireguard.*, underlay.*, netstack.*, filter.*, as TailnetStatus.Drops names them).");
        Meter.CreateObservableCounter("tsnet.wireguard.handshakes", () => Snapshot().Handshakes, "{handshake}",
            "WireGuard handshakes completed with the current peers.");
        Meter.CreateObservableUpDownCounter("tsnet.wireguard.sessions", () => Snapshot().Sessions, "{session}",
            "Peers with an established WireGuard session.");
        Meter.CreateObservableUpDownCounter("tsnet.tcp.connections.active", () => Snapshot().TcpConnections, "{connection}",
            "Open TCP connections of the node's userspace network stack.");
        Meter.CreateObservableUpDownCounter("tsnet.peers", ObservePeers, "{peer}",
            "Peers by the kind of path packets to them take (direct, relay, derp, none).");
        Meter.CreateObservableUpDownCounter("tsnet.derp.connections", () => (long)(Volatile.Read(ref _derpConnections)?.Invoke() ?? 0), "{connection}",
            "Connections to DERP servers that are up.");
        Meter.CreateObservableCounter("tsnet.control.reconnects", () => Math.Max(0, Interlocked.Read(ref _controlConnects) - 1), "{reconnect}",
            "Times the map stream to the coordination server came back after it was lost.");
        Meter.CreateObservableUpDownCounter("tsnet.relay.endpoints", () => Snapshot().RelayEndpoints, "{endpoint}",
            "Endpoints allocated on the UDP relay servers this node runs.");
    }

    /// <summary>The node's meter (tests tell nodes apart by it).</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Feeds <c>tsnet.derp.connections</c>: the DERP client set registers how to read its count of connected servers
    /// (called at collection time, from the collector's thread; must not block). Until then the instrument reads 0.
    /// </summary>
    public void ObserveDerpConnections(Func<int> connectedServers)
    {
        ArgumentNullException.ThrowIfNull(connectedServers);
        Volatile.Write(ref _derpConnections, connectedServers);
    }

    /// <summary>The control session's map stream came up (true) or went (false); every coming-up after the first is a reconnect.</summary>
    public void OnControlConnectionChanged(bool connected)
    {
        if (connected)
        {
            Interlocked.Increment(ref _controlConnects);
        }
    }

    /// <summary>Ends the meter: listeners stop seeing its instruments.</summary>
    public void Dispose() => Meter.Dispose();

    /// <summary>The snapshot for this collection round: taken fresh unless one was taken a moment ago.</summary>
    private TailnetMetricsSnapshot Snapshot()
    {
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (_lastTakenAt == long.MinValue || Stopwatch.GetElapsedTime(_lastTakenAt, now) >= s_snapshotReuse)
            {
                _last = _collect() ?? TailnetMetricsSnapshot.Empty;
                _lastTakenAt = now;
            }

            return _last;
        }
    }

    private static Measurement<long>[] ByDirection(long received, long transmitted) =>
    [
        new(received, new KeyValuePair<string, object?>("direction", "receive")),
        new(transmitted, new KeyValuePair<string, object?>("direction", "transmit")),
    ];

    private IEnumerable<Measurement<long>> ObserveDrops()
    {
        var drops = Snapshot().Drops;
        var measurements = new List<Measurement<long>>(drops.Count);
        foreach (var (reason, count) in drops)
        {
            measurements.Add(new Measurement<long>(count, new KeyValuePair<string, object?>("reason", reason)));
        }

        return measurements;
    }

    private IEnumerable<Measurement<long>> ObservePeers()
    {
        var byPath = Snapshot().PeersByPath;
        var measurements = new List<Measurement<long>>(s_pathKinds.Length + byPath.Count);
        foreach (var kind in s_pathKinds)
        {
            measurements.Add(new Measurement<long>(byPath.GetValueOrDefault(kind), new KeyValuePair<string, object?>("path", kind)));
        }

        foreach (var (kind, count) in byPath)
        {
            if (Array.IndexOf(s_pathKinds, kind) < 0)
            {
                measurements.Add(new Measurement<long>(count, new KeyValuePair<string, object?>("path", kind)));
            }
        }

        return measurements;
    }
}
