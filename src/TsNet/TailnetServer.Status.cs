using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Status: the registry says which peers there are; the dataplane loop, asked with a bounded wait, says how their
// sessions are. A loop that does not answer in time never holds the caller: the last answer it gave stands in.
public sealed partial class TailnetServer
{
    /// <summary>How long <see cref="GetStatus"/> waits for the dataplane loop before it answers from the last snapshot.</summary>
    private static readonly TimeSpan s_statusWaitLimit = TimeSpan.FromMilliseconds(500);

    private readonly object _statusGate = new();
    private Task<DataplaneStatusSnapshot>? _statusRequest;
    private DataplaneStatusSnapshot _lastDataplaneStatus = DataplaneStatusSnapshot.Empty;

    /// <summary>
    /// A snapshot of the node and its peers. The peer list, names, addresses and key are current (from the registry);
    /// session figures (endpoint, last handshake, bytes, session state, WireGuard drops) come from the dataplane loop,
    /// which is given at most 500 ms to answer. When it does not answer in time (busy, stalled or failed), they are
    /// the figures of the loop's last answer, and a peer added since then shows no endpoint, no handshake, zero bytes
    /// and session state <c>none</c>. Underlay and netstack drop counters are always current.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    public TailnetStatus GetStatus()
    {
        var (dataplane, netstack) = Started();
        var registry = _registry.Current;
        var sessions = TakeDataplaneStatus(dataplane);
        var peers = new List<TailnetPeerStatus>(registry.Count);
        foreach (var entry in registry.Peers)
        {
            peers.Add(sessions.Peers.TryGetValue(entry.NodeKey, out var session)
                ? new TailnetPeerStatus(entry.NodeKey, entry.Name, session.Endpoint, session.LastHandshake, session.RxBytes, session.TxBytes, session.SessionState)
                : new TailnetPeerStatus(entry.NodeKey, entry.Name, null, null, 0, 0, "none"));
        }

        var drops = new Dictionary<string, long>(sessions.Drops);
        DropCounters.AddIfNonZero(drops, "underlay.InboundQueueFull", dataplane.UnderlayInboundDrops);
        DropCounters.AddIfNonZero(drops, "underlay.SendFailed", dataplane.UnderlaySendDrops);
        DropCounters.AddIfNonZero(drops, "dataplane.ToNetstackQueueFull", Interlocked.Read(ref dataplane.FromWireGuardDrops));
        foreach (var reason in Enum.GetValues<Netstack.NetstackDropReason>())
        {
            DropCounters.AddIfNonZero(drops, "netstack." + reason, netstack.Counters.Dropped(reason));
        }

        return new TailnetStatus(PublicKey, Addresses, dataplane.ListenPort, peers, drops);
    }

    /// <summary>
    /// Asks the loop for a fresh snapshot (one request in flight at a time, however many callers) and waits a bounded
    /// time for it; otherwise returns the last one.
    /// </summary>
    private DataplaneStatusSnapshot TakeDataplaneStatus(DataplaneLoop dataplane)
    {
        Task<DataplaneStatusSnapshot> request;
        lock (_statusGate)
        {
            if (_statusRequest is not { IsCompleted: false } pending)
            {
                pending = _statusRequest = OnDataplaneAsync(dataplane, (loop, _) => SnapshotSessions(loop), CancellationToken.None);
            }

            request = pending;
        }

        try
        {
            if (request.Wait(s_statusWaitLimit))
            {
                Volatile.Write(ref _lastDataplaneStatus, request.Result);
            }
        }
        catch (AggregateException)
        {
            // The loop failed or stopped: its last answer stands in.
        }

        return Volatile.Read(ref _lastDataplaneStatus);
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
            peers[new WireGuardKey(peer.PublicKey)] = new PeerSessionStatus(
                peer.Endpoint.IsSet ? peer.Endpoint.ToIPEndPoint() : null, lastHandshake, peer.RxBytes, peer.TxBytes, peer.SessionState);
        }

        var drops = new Dictionary<string, long>();
        foreach (var (reason, count) in loop.Core.Counters.Snapshot())
        {
            drops["wireguard." + reason] = count;
        }

        loop.AddRelayCounters(drops);
        return new DataplaneStatusSnapshot(peers, drops);
    }
}
