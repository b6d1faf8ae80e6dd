using TsNet.Services.Fallback;

namespace TsNet;

// Fallback TCP handlers (tsnet's RegisterFallbackTCPHandler): claim inbound flows no listener takes.
public sealed partial class TailnetServer
{
    /// <summary>
    /// Registers <paramref name="handler"/> for inbound TCP flows that match no listener, after those already
    /// registered. For each such SYN the handlers are asked in registration order and the first claim wins
    /// (<see cref="FallbackDecision.Accept"/> or <see cref="FallbackDecision.Reject"/>); listeners always come first;
    /// when every handler declines, the peer gets a RST, as without handlers. The flow may be for any destination
    /// address: while a handler is registered the node also takes flows to addresses other than its own, which a peer
    /// sends here when its AllowedIPs for this node include them (e.g. <c>198.18.0.0/15</c> on the wireguard-go side).
    /// Bounds: 512 claimed flows in flight per destination port and 1024 ports with live state (over either: RST);
    /// a port's state is reaped 120 s after its last flow. A handler that throws counts as a decline and is logged.
    /// May be called before <see cref="StartAsync"/>.
    /// </summary>
    /// <returns>A registration whose disposal removes the handler; flows already accepted keep running.</returns>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public IDisposable RegisterFallbackTcpHandler(FallbackTcpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
        }

        return _fallback.Register(handler);
    }
}
