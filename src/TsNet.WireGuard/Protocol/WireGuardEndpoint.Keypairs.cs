using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

// Session keys (wireguard.md §3.5): derive a keypair when a handshake completes and rotate previous/current/next.
// The responder parks its new keypair in "next" and sends nothing under it until the initiator's first packet
// arrives under it (key confirmation).
internal sealed partial class WireGuardEndpoint
{
    private void BeginSymmetricSession(WireGuardPeer peer, long now)
    {
        var handshake = peer.Handshake;
        bool isInitiator;
        if (handshake.State == HandshakeState.ResponseConsumed)
        {
            isInitiator = true;
        }
        else if (handshake.State == HandshakeState.ResponseCreated)
        {
            isInitiator = false;
        }
        else
        {
            return;
        }

        Span<byte> first = stackalloc byte[32];
        Span<byte> second = stackalloc byte[32];
        Keypair keypair;
        try
        {
            NoiseProtocol.DeriveTransportKeys(handshake.ChainKey, first, second);
            var send = TransportCipher.Create(isInitiator ? first : second);
            var receive = TransportCipher.Create(isInitiator ? second : first);
            keypair = new Keypair(peer, send, receive, isInitiator, now, handshake.LocalIndex, handshake.RemoteIndex);
        }
        finally
        {
            Wipe(first);
            Wipe(second);
        }

        _indices.SwapForKeypair(handshake.LocalIndex, keypair);
        handshake.Clear();

        var previous = peer.Previous;
        var next = peer.Next;
        var current = peer.Current;
        if (isInitiator)
        {
            if (next is not null)
            {
                peer.Next = null;
                peer.Previous = next;
                DeleteKeypair(current);
            }
            else
            {
                peer.Previous = current;
            }

            DeleteKeypair(previous);
            peer.Current = keypair;
        }
        else
        {
            peer.Next = keypair;
            DeleteKeypair(next);
            peer.Previous = null;
            DeleteKeypair(previous);
        }
    }

    /// <summary>Promotes "next" to "current" when a packet arrives under it; true if that happened (key confirmation).</summary>
    private bool ReceivedWithKeypair(WireGuardPeer peer, Keypair keypair)
    {
        if (!ReferenceEquals(peer.Next, keypair))
        {
            return false;
        }

        var old = peer.Previous;
        peer.Previous = peer.Current;
        DeleteKeypair(old);
        peer.Current = peer.Next;
        peer.Next = null;
        return true;
    }

    private void DeleteKeypair(Keypair? keypair)
    {
        if (keypair is null)
        {
            return;
        }

        _indices.Remove(keypair.LocalIndex);
        keypair.Dispose();
    }

    /// <summary>Wipes every keypair and the handshake, and drops staged packets.</summary>
    private void ZeroAndFlushAll(WireGuardPeer peer)
    {
        WipeSessions(peer);
        FlushStagedPackets(peer, WireGuardDropReason.KeysZeroed);
    }

    /// <summary>Wipes every keypair and the handshake of <paramref name="peer"/>; staged packets stay.</summary>
    private void WipeSessions(WireGuardPeer peer)
    {
        DeleteKeypair(peer.Previous);
        DeleteKeypair(peer.Current);
        DeleteKeypair(peer.Next);
        peer.Previous = peer.Current = peer.Next = null;
        _indices.Remove(peer.Handshake.LocalIndex);
        peer.Handshake.Clear();
        peer.LastHandshakeMessage?.Clear();
    }
}
