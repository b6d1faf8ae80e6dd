using TsNet.Metrics;

namespace TsNet;

// The TsNet meter's data source: one snapshot per collection round, from what GetStatus reports plus two figures
// only the loops know (completed handshakes, open TCP connections), each asked with a bounded wait. A loop that does
// not answer in time never holds the collector: its last answer stands in.
public sealed partial class TailnetServer
{
    /// <summary>How long a collection waits for a loop's answer before it reports the loop's last one.</summary>
    private static readonly TimeSpan s_metricsWaitLimit = TimeSpan.FromMilliseconds(500);

    private long _lastHandshakes;
    private long _lastTcpConnections;

    /// <summary>The node's <c>TsNet</c> meter; <see cref="TailnetMetrics.ObserveDerpConnections"/> is the DERP client set's hook.</summary>
    internal TailnetMetrics Metrics { get; }

    /// <summary>A snapshot for the meter; null while the node is not started, is stopping, or faulted.</summary>
    private TailnetMetricsSnapshot? CollectMetrics()
    {
        Dataplane.DataplaneLoop dataplane;
        Netstack.NetstackLoop netstack;
        UdpRelayServer[] relays;
        lock (_gate)
        {
            if (_disposeTask is not null || _dataplane is null || _netstack is null || Fault is not null)
            {
                return null;
            }

            dataplane = _dataplane;
            netstack = _netstack;
            relays = [.. _relayServers];
        }

        TailnetStatus status;
        try
        {
            status = GetStatus();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            return null;
        }

        var handshakes = dataplane.InvokeAsync((loop, _) => ValueTask.FromResult(SumHandshakes(loop.Core)));
        _lastHandshakes = AnswerOrLast(handshakes, _lastHandshakes);
        var tcpConnections = netstack.TcpConnectionCountAsync().AsTask();
        _lastTcpConnections = AnswerOrLast(tcpConnections, _lastTcpConnections);

        var byPath = new Dictionary<string, long>();
        long received = 0, transmitted = 0, sessions = 0;
        foreach (var peer in status.Peers)
        {
            received += peer.RxBytes;
            transmitted += peer.TxBytes;
            sessions += peer.SessionState == "established" ? 1 : 0;
            var kind = PathKindOf(peer.Path);
            byPath[kind] = byPath.GetValueOrDefault(kind) + 1;
        }

        long relayEndpoints = 0;
        foreach (var relay in relays)
        {
            relayEndpoints += relay.EndpointCount;
        }

        return new TailnetMetricsSnapshot
        {
            ReceivedBytes = received,
            TransmittedBytes = transmitted,
            ReceivedPackets = netstack.Counters.InboundPackets,
            TransmittedPackets = netstack.Counters.OutboundPackets,
            Handshakes = _lastHandshakes,
            Sessions = sessions,
            TcpConnections = _lastTcpConnections,
            PeersByPath = byPath,
            Drops = status.Drops,
            RelayEndpoints = relayEndpoints,
        };
    }

    /// <summary>The first word of a status path (<c>direct 1.2.3.4:5</c> → <c>direct</c>); <c>none</c> without a path.</summary>
    private static string PathKindOf(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "none";
        }

        var space = path.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? path : path[..space];
    }

    private static long SumHandshakes(WireGuard.Protocol.WireGuardEndpoint core)
    {
        long sum = 0;
        foreach (var peer in core.Peers)
        {
            sum += peer.HandshakesCompleted;
        }

        return sum;
    }

    /// <summary>The loop's answer if it comes within the limit; otherwise <paramref name="last"/> (a late failure is observed, not raised).</summary>
    private static long AnswerOrLast<T>(Task<T> answer, long last)
        where T : struct, IConvertible
    {
        try
        {
            if (answer.Wait(s_metricsWaitLimit))
            {
                return answer.Result.ToInt64(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (AggregateException)
        {
            return last;
        }

        _ = answer.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return last;
    }
}
