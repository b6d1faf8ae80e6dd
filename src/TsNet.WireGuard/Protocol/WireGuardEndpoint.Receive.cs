using System.Buffers.Binary;
using TsNet.Packets.Buffers;

namespace TsNet.WireGuard.Protocol;

// Inbound pipeline: length and type checks → handshake path (mac1, under-load cookie/mac2, rate limit, Noise)
// or transport path (receiver index → keypair age → AEAD open in place → replay window → key confirmation →
// roaming → timers → inner IP length and AllowedIPs source check → deliver).
internal sealed partial class WireGuardEndpoint
{
    /// <summary>
    /// Handles one underlay datagram from <paramref name="source"/>. Takes ownership of <paramref name="datagram"/>.
    /// <paramref name="pendingHandshakes"/> is how many handshake messages wait behind this one (load signal).
    /// Never throws on bad input: it drops and counts.
    /// </summary>
    public void ReceiveDatagram(PacketBuffer datagram, in UnderlayAddress source, long now, int pendingHandshakes, IWireGuardOutput output)
    {
        var message = datagram.Span;
        if (message.Length < MessageLayout.MinMessageSize)
        {
            Counters.Drop(WireGuardDropReason.TooShort);
            datagram.Return();
            return;
        }

        switch (BinaryPrimitives.ReadUInt32LittleEndian(message))
        {
            case MessageLayout.TypeTransport:
                ReceiveTransport(datagram, source, now, output);
                return;
            case MessageLayout.TypeInitiation:
            case MessageLayout.TypeResponse:
            case MessageLayout.TypeCookieReply:
                ReceiveHandshakeMessage(message, source, now, pendingHandshakes, output);
                datagram.Return();
                return;
            default:
                Counters.Drop(WireGuardDropReason.UnknownType);
                datagram.Return();
                return;
        }
    }

    private void ReceiveTransport(PacketBuffer datagram, in UnderlayAddress source, long now, IWireGuardOutput output)
    {
        var message = datagram.Span;
        var receiver = BinaryPrimitives.ReadUInt32LittleEndian(message[MessageLayout.TransportReceiver..]);
        if (!_indices.TryGet(receiver, out var entry) || entry.Keypair is not { } keypair || keypair.IsDisposed)
        {
            Counters.Drop(WireGuardDropReason.UnknownReceiverIndex);
            datagram.Return();
            HandshakeWithPeerHoldingStaleSession(source, now, output);
            return;
        }

        if (now - keypair.Created > _timers.RejectAfterTime.Ticks)
        {
            Counters.Drop(WireGuardDropReason.KeypairExpired);
            datagram.Return();
            return;
        }

        var counter = BinaryPrimitives.ReadUInt64LittleEndian(message[MessageLayout.TransportCounter..]);
        var payloadLength = message.Length - MessageLayout.TransportHeaderSize - MessageLayout.TagSize;
        var payload = message.Slice(MessageLayout.TransportPayload, payloadLength);
        var tag = message.Slice(MessageLayout.TransportPayload + payloadLength, MessageLayout.TagSize);
        if (!keypair.Receive.Open(counter, payload, tag))
        {
            Counters.Drop(WireGuardDropReason.DecryptionFailed);
            datagram.Return();
            return;
        }

        // Only after authentication, so forged counters cannot advance the window.
        if (!keypair.Replay.TryAccept(counter, _timers.RejectAfterMessages))
        {
            Counters.Drop(WireGuardDropReason.ReplayedCounter);
            datagram.Return();
            return;
        }

        var peer = keypair.Peer;
        if (ReceivedWithKeypair(peer, keypair))
        {
            SetEndpoint(peer, source);
            TimersHandshakeComplete(peer, now);
            SendStagedPackets(peer, now, output);
        }

        SetEndpoint(peer, source);
        KeepKeyFreshReceiving(peer, now, output);
        TimersAnyAuthenticatedPacketTraversal(peer, now);
        TimersAnyAuthenticatedPacketReceived(peer);
        peer.RxBytes += message.Length;

        if (payloadLength == 0)
        {
            // Keepalive: consumed here, nothing to deliver.
            Reschedule(peer);
            datagram.Return();
            return;
        }

        TimersDataReceived(peer, now);
        Reschedule(peer);

        if (!TryGetInnerPacket(payload, out var innerLength, out var sourceAddress))
        {
            Counters.Drop(WireGuardDropReason.InvalidInnerPacket);
            datagram.Return();
            return;
        }

        if (!ReferenceEquals(_allowedIps.Lookup(sourceAddress), peer))
        {
            Counters.Drop(WireGuardDropReason.AllowedIpsMismatch);
            datagram.Return();
            return;
        }

        datagram.SetRange(datagram.Offset + MessageLayout.TransportPayload, innerLength);
        output.DeliverPacket(peer, datagram);
    }

    /// <summary>Strips padding using the inner header's length field and finds the source address (wireguard.md §6 step 8).</summary>
    private static bool TryGetInnerPacket(ReadOnlySpan<byte> plaintext, out int length, out ReadOnlySpan<byte> sourceAddress)
    {
        length = 0;
        sourceAddress = default;
        switch (plaintext[0] >> 4)
        {
            case 4 when plaintext.Length >= 20:
                length = BinaryPrimitives.ReadUInt16BigEndian(plaintext[2..]);
                if (length < 20 || length > plaintext.Length)
                {
                    return false;
                }

                sourceAddress = plaintext.Slice(12, 4);
                return true;
            case 6 when plaintext.Length >= 40:
                length = BinaryPrimitives.ReadUInt16BigEndian(plaintext[4..]) + 40;
                if (length > plaintext.Length)
                {
                    return false;
                }

                sourceAddress = plaintext.Slice(8, 16);
                return true;
            default:
                return false;
        }
    }

    private void SetEndpoint(WireGuardPeer peer, in UnderlayAddress source)
    {
        if (peer.Endpoint != source && !peer.FixedEndpoint)
        {
            if (peer.Endpoint.IsSet)
            {
                Counters.Roams++;
            }

            peer.Endpoint = source;
        }
    }
}
