using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Status: the registry says which peers there are; the dataplane loop, asked with a bounded wait, says how their
// sessions are. A loop that does not answer in time never holds the caller: the last answer it gave stands in.
public sealed partial class TailnetServer
{
    /// <summary>How long <see cref="GetStatus"/> waits for the dataplane loop before it answers from the last snapshot.</summary>
    private static readonly TimeSpan s_statusWaitLimit = TimeSpan.FromSeconds(1);

    private readonly object _statusGate = new();
    private StatusRequest? _statusRequest;
    private DataplaneStatusSnapshot _lastDataplaneStatus = DataplaneStatusSnapshot.Empty;

    /// <summary>
    /// A snapshot of the node and its peers. The peer list, names, addresses and key are current (from the registry);
    /// session figures (endpoint, last handshake, bytes, session state, WireGuard drops) come from the dataplane loop,
    /// which is given at most 1 s to answer. When it does not answer in time (busy, stalled or failed), they are
    /// the figures of the loop's last answer, and a peer added since then shows no endpoint, no handshake, zero bytes
    /// and session state <c>none</c>. Underlay and netstack drop counters are always current.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    public TailnetStatus GetStatus()
    {
        if (FaultedStatus() is { } faulted)
        {
            return faulted;
        }

        var (dataplane, netstack) = Started();
        var registry = _registry.Current;
        var sessions = TakeDataplaneStatus(dataplane);
        var peers = new List<TailnetPeerStatus>(registry.Count);
        foreach (var entry in registry.Peers)
        {
            var status = sessions.Peers.TryGetValue(entry.NodeKey, out var session)
                ? new TailnetPeerStatus(entry.NodeKey, entry.Name, session.Endpoint, session.LastHandshake, session.RxBytes, session.TxBytes, session.SessionState)
                {
                    DnsName = entry.DnsName, Addresses = entry.Addresses, Online = entry.Online, Path = session.Path ?? PathText(entry, session.Endpoint),
                }
                : new TailnetPeerStatus(entry.NodeKey, entry.Name, null, null, 0, 0, "none") { DnsName = entry.DnsName, Addresses = entry.Addresses, Online = entry.Online };
            peers.Add(status);
        }

        var drops = new Dictionary<string, long>(sessions.Drops);
        DropCounters.AddIfNonZero(drops, "underlay.InboundQueueFull", dataplane.UnderlayInboundDrops);
        DropCounters.AddIfNonZero(drops, "underlay.SendFailed", dataplane.UnderlaySendDrops);
        DropCounters.AddIfNonZero(drops, "dataplane.ToNetstackQueueFull", Interlocked.Read(ref dataplane.FromWireGuardDrops));
        if (Volatile.Read(ref _packetFilter) is { } filter)
        {
            DropCounters.AddIfNonZero(drops, "filter.Denied", filter.Denied);
            DropCounters.AddIfNonZero(drops, "filter.Malformed", filter.Malformed);
        }

        foreach (var reason in Enum.GetValues<Netstack.NetstackDropReason>())
        {
            DropCounters.AddIfNonZero(drops, "netstack." + reason, netstack.Counters.Dropped(reason));
        }

        return new TailnetStatus(PublicKey, Addresses, dataplane.ListenPort, peers, drops)
        {
            DnsName = DnsName,
            HomeDerpRegion = HomeDerpRegion is var home and > 0 ? home : null,
            Endpoints = AnnouncedEndpoints(Volatile.Read(ref _localEndpoints)),
            ControlConnected = ControlConnected,
        };
    }

    /// <summary>
    /// Asks the loop for a fresh snapshot (one request in flight at a time, however many callers) and waits a bounded
    /// time for it; otherwise returns the last one. The loop hands the snapshot over itself and wakes the waiters
    /// directly, so an answer needs no thread-pool continuation to arrive.
    /// </summary>
    private DataplaneStatusSnapshot TakeDataplaneStatus(DataplaneLoop dataplane)
    {
        StatusRequest request;
        lock (_statusGate)
        {
            if (_statusRequest is not { IsDone: false } pending)
            {
                var created = pending = _statusRequest = new StatusRequest();
                var submitted = OnDataplaneAsync(dataplane, (loop, _) =>
                {
                    Volatile.Write(ref _lastDataplaneStatus, SnapshotSessions(loop));
                    // Wake the waiters from the loop's own task: a continuation would need a thread-pool thread,
                    // and callers blocked in GetStatus may be holding the pool's threads (sync over async).
                    created.Finish();
                    return true;
                }, CancellationToken.None);

                // Answered, failed or abandoned: wake the waiters either way (a failed loop's last answer stands).
                submitted.ContinueWith(static (_, state) => ((StatusRequest)state!).Finish(), pending, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            request = pending;
        }

        request.Wait(s_statusWaitLimit);
        return Volatile.Read(ref _lastDataplaneStatus);
    }

    /// <summary>One status question to the loop that any number of callers wait on.</summary>
    private sealed class StatusRequest
    {
        private readonly ManualResetEventSlim _done = new();

        public bool IsDone => _done.IsSet;

        public void Finish() => _done.Set();

        public void Wait(TimeSpan limit) => _done.Wait(limit);
    }

    /// <summary>On the dataplane's task: the core's peers and drop counters.</summary>
    private static DataplaneStatusSnapshot SnapshotSessions(DataplaneLoop loop)
    {
        var peers = new Dictionary<WireGuardKey, PeerSessionStatus>();
        foreach (var peer in loop.Core.Peers)
        {
            DateTimeOffset? lastHandshake = peer.LastHandshakeAt == Timestamps.Never
                ? null
                : loop.WallClockOrigin + TimeSpan.FromTicks(peer.LastHandshakeAt);
            var (path, endpoint) = DescribePath(loop, peer.Endpoint, loop.Now);
            peers[new WireGuardKey(peer.PublicKey)] = new PeerSessionStatus(endpoint, lastHandshake, peer.RxBytes, peer.TxBytes, peer.SessionState, path);
        }

        var drops = new Dictionary<string, long>();
        foreach (var (reason, count) in loop.Core.Counters.Snapshot())
        {
            drops["wireguard." + reason] = count;
        }

        loop.AddRelayCounters(drops);
        loop.Paths?.AddCounters(drops);
        loop.StaticPaths?.AddCounters(drops);
        return new DataplaneStatusSnapshot(peers, drops);
    }
}
