using TsNet.Filter;

namespace TsNet;

// Packet filter: the netmap's rules judge inbound packets on the dataplane task before the netstack sees them. The
// filter state (flow table, drop counters) is made on the first set and kept, so counters and flows outlive a
// change of rules and a time without any.
public sealed partial class TailnetServer
{
    private StatefulPacketFilter? _packetFilter;

    /// <summary>
    /// Sets the rules inbound packets are judged by (the netmap's <c>PacketFilter</c>); null removes filtering
    /// (static mode, and a tailnet whose control sent none). Applies to the next packet; flows this node opened stay
    /// allowed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    internal Task SetPacketFilterAsync(PacketFilter? rules, CancellationToken cancellationToken = default)
    {
        var (dataplane, _) = Started();
        return OnDataplaneAsync(dataplane, (loop, _) =>
        {
            if (rules is null)
            {
                loop.InboundFilter = null;
                return true;
            }

            // Only the loop's task makes or changes the state, so the first set needs no lock either.
            var filter = _packetFilter;
            if (filter is null)
            {
                filter = new StatefulPacketFilter(rules);
                Volatile.Write(ref _packetFilter, filter); // GetStatus reads it from other threads
            }

            filter.Rules = rules;
            loop.InboundFilter = filter;
            return true;
        }, cancellationToken);
    }
}
