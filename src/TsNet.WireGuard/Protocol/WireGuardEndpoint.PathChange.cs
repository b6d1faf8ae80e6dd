namespace TsNet.WireGuard.Protocol;

// A path to the peer that just started to work (control mode: disco confirmed a direct UDP path) is a reason to
// handshake now. Until then the last initiation or response may have gone down a path that delivered nothing (a
// DERP region that is down, no path at all), and WireGuard alone would wait REKEY_TIMEOUT (5 s) before it tries
// again — per side, so a lost response costs two such waits. Only a peer that is trying to reach us or be reached
// (staged packets, a handshake in flight, an unconfirmed responder session) and has no session yet gets one.
internal sealed partial class WireGuardEndpoint
{
    /// <summary>Handshakes started because a new path to the peer was confirmed.</summary>
    public long PathChangeHandshakes { get; private set; }

    /// <summary>
    /// The path to <paramref name="peer"/> was just confirmed: a peer without a session that is trying to talk gets a
    /// fresh initiation now, past the REKEY_TIMEOUT throttle. Does nothing for a peer with a session or at rest.
    /// </summary>
    public void HandshakeOnNewPath(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Current is not null || !peer.IsUsable || peer.Removed)
        {
            return;
        }

        var trying = peer.Staged.Count > 0 || peer.Next is not null || peer.Handshake.State == HandshakeState.InitiationCreated;
        if (!trying)
        {
            return;
        }

        PathChangeHandshakes++;
        peer.Handshake.LastSentHandshake = Timestamps.Never;
        SendHandshakeInitiation(peer, isRetry: false, now, output);
    }
}
