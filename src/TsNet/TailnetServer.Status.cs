using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Status snapshot: taken on the dataplane's task so the core is never read concurrently.
public sealed partial class TailnetServer
{
    /// <summary>A snapshot of the node and its peers (waits briefly for the dataplane to take it).</summary>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    public TailnetStatus GetStatus()
    {
        if (FaultedStatus() is { } faulted)
        {
            return faulted;
        }

        var (dataplane, netstack) = Started();
        var snapshot = dataplane.InvokeAsync<(List<TailnetPeerStatus> Peers, Dictionary<string, long> Drops)>((loop, now) =>
        {
            var peers = new List<TailnetPeerStatus>();
            foreach (var peer in loop.Core.Peers)
            {
                DateTimeOffset? lastHandshake = peer.LastHandshakeAt == Timestamps.Never
                    ? null
                    : loop.WallClockOrigin + TimeSpan.FromTicks(peer.LastHandshakeAt);
                var name = (peer.Tag as Dataplane.PeerSettings)?.Name;
                peers.Add(new TailnetPeerStatus(
                    new WireGuardKey(peer.PublicKey), name, peer.Endpoint.IsSet ? peer.Endpoint.ToIPEndPoint() : null,
                    lastHandshake, peer.RxBytes, peer.TxBytes, peer.SessionState));
            }

            var drops = new Dictionary<string, long>();
            foreach (var (reason, count) in loop.Core.Counters.Snapshot())
            {
                drops["wireguard." + reason] = count;
            }

            loop.AddRelayCounters(drops);

            return ValueTask.FromResult((peers, drops));
        }).GetAwaiter().GetResult();

        var dropsAll = snapshot.Drops;
        DropCounters.AddIfNonZero(dropsAll, "underlay.InboundQueueFull", dataplane.UnderlayInboundDrops);
        DropCounters.AddIfNonZero(dropsAll, "underlay.SendFailed", dataplane.UnderlaySendDrops);
        DropCounters.AddIfNonZero(dropsAll, "dataplane.ToNetstackQueueFull", Interlocked.Read(ref dataplane.FromWireGuardDrops));
        foreach (var reason in Enum.GetValues<Netstack.NetstackDropReason>())
        {
            DropCounters.AddIfNonZero(dropsAll, "netstack." + reason, netstack.Counters.Dropped(reason));
        }

        return new TailnetStatus(PublicKey, _addresses, dataplane.ListenPort, snapshot.Peers, dropsAll);
    }
}
