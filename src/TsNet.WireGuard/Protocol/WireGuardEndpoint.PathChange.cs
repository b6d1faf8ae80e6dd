namespace TsNet.WireGuard.Protocol;

// A path to the peer that just started to work (control mode: disco confirmed a direct UDP path) is a reason to
// handshake now. Until then the last initiation or response may have gone down a path that delivered nothing (a
// DERP region that is down, no path at all), and WireGuard alone would wait REKEY_TIMEOUT (5 s) before it tries
// again — per side, so a lost response costs two such waits. Only a peer that is trying to reach us or be reached
// (staged packets, a handshake in flight, an unconfirmed responder session) and has no session yet gets one.
//
// The message that may have been lost goes out again unchanged while it still stands for a live handshake; only when
// there is none does a fresh initiation start. A fresh initiation here would replace the handshake state the peer may
// be answering at this moment: both ends usually learn of the new path within a millisecond of each other, and two
// initiations crossing leave each end holding a response it no longer has the state for, until REKEY_TIMEOUT.
internal sealed partial class WireGuardEndpoint
{
    /// <summary>Handshakes started because a new path to the peer was confirmed.</summary>
    public long PathChangeHandshakes { get; private set; }

    /// <summary>Handshake messages re-sent unchanged because a new path to the peer was confirmed.</summary>
    public long PathChangeResends { get; private set; }

    /// <summary>
    /// The path to <paramref name="peer"/> was just confirmed: a peer without a session that is trying to talk gets
    /// its last handshake message again (an initiation still awaiting its response, or a response whose session still
    /// awaits the peer's first packet, sent less than REKEY_TIMEOUT ago), else a fresh initiation now, past the
    /// REKEY_TIMEOUT throttle. Does nothing for a peer with a session or at rest.
    /// </summary>
    public void HandshakeOnNewPath(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Current is not null || !peer.IsUsable || peer.Removed)
        {
            return;
        }

        if (TryResendLastHandshakeMessage(peer, now, output))
        {
            PathChangeResends++;
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

    private bool TryResendLastHandshakeMessage(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        if (peer.LastHandshakeMessage is not { } last || last.SentAt == Timestamps.Never || now - last.SentAt >= _timers.RekeyTimeout.Ticks)
        {
            return false;
        }

        var live = last.IsInitiation
            ? peer.Handshake.State == HandshakeState.InitiationCreated && peer.Handshake.LocalIndex == last.LocalIndex
            : peer.Next is { } next && next.LocalIndex == last.LocalIndex;
        if (!live)
        {
            return false;
        }

        var buffer = _pool.Rent();
        var bytes = last.Bytes;
        bytes.CopyTo(buffer.Append(bytes.Length));
        SendToPeer(peer, buffer, output);
        return true;
    }
}
