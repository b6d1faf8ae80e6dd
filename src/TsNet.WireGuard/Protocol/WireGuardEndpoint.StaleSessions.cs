namespace TsNet.WireGuard.Protocol;

// A transport message with a receiver index this node does not know, from the endpoint of a peer with which it has
// no session at all, means the peer still holds a session this node has lost: the peer was removed and configured
// again (a netmap that briefly lacked it, e.g. after the coordination server restarted), or the node restarted with
// the same key. Plain WireGuard heals that only when the peer's own no-reply rule fires (keepalive + rekey timeout,
// 15 s) — every packet until then is lost. Starting a handshake now (throttled like any initiation: at most one per
// REKEY_TIMEOUT) heals it within a round trip. This adds no new message: the peer sees an ordinary initiation.
internal sealed partial class WireGuardEndpoint
{
    /// <summary>Least time between two searches for the sender of an unknown receiver index (bounds a flood's cost).</summary>
    private static readonly long s_staleSessionSearchInterval = TimeSpan.FromMilliseconds(250).Ticks;

    private long _lastStaleSessionSearch = long.MinValue;

    /// <summary>How often an unknown receiver index made this node start a handshake with its sender.</summary>
    public long StaleSessionHandshakes { get; private set; }

    private void HandshakeWithPeerHoldingStaleSession(in UnderlayAddress source, long now, IWireGuardOutput output)
    {
        if (_lastStaleSessionSearch != long.MinValue && now - _lastStaleSessionSearch < s_staleSessionSearchInterval)
        {
            return;
        }

        _lastStaleSessionSearch = now;
        foreach (var peer in _peers.Values)
        {
            if (peer.Endpoint == source && peer.Current is null && peer.Next is null && peer.Previous is null && peer.IsUsable)
            {
                StaleSessionHandshakes++;
                SendHandshakeInitiation(peer, isRetry: false, now, output);
                return;
            }
        }
    }
}
