using System.Buffers.Binary;
using TsNet.Packets.Buffers;

namespace TsNet.WireGuard.Protocol;

// Outbound pipeline: inner destination → AllowedIPs longest-prefix match picks the peer → stage (bounded,
// oldest dropped) → with a usable current keypair: pad to 16 (bounded by the MTU) → seal in place under the next
// counter → prepend the 16-byte transport header → send to the peer's endpoint → timers → keep keys fresh.
// Without a usable keypair the packets stay staged and a handshake starts.
internal sealed partial class WireGuardEndpoint
{
    /// <summary>Routes and sends one inner IP packet. Takes ownership of <paramref name="packet"/>.</summary>
    public void SendPacket(PacketBuffer packet, long now, IWireGuardOutput output)
    {
        var span = packet.Span;
        ReadOnlySpan<byte> destination;
        if (span.Length >= 20 && span[0] >> 4 == 4)
        {
            destination = span.Slice(16, 4);
        }
        else if (span.Length >= 40 && span[0] >> 4 == 6)
        {
            destination = span.Slice(24, 16);
        }
        else
        {
            Counters.Drop(WireGuardDropReason.InvalidInnerPacket);
            packet.Return();
            return;
        }

        var peer = _allowedIps.Lookup(destination);
        if (peer is null)
        {
            Counters.Drop(WireGuardDropReason.NoRoute);
            packet.Return();
            return;
        }

        SendPacket(peer, packet, now, output);
    }

    /// <summary>Stages a packet for <paramref name="peer"/> and sends what can be sent.</summary>
    public void SendPacket(WireGuardPeer peer, PacketBuffer packet, long now, IWireGuardOutput output)
    {
        Stage(peer, packet);
        SendStagedPackets(peer, now, output);
        Reschedule(peer);
    }

    private void Stage(WireGuardPeer peer, PacketBuffer packet)
    {
        if (peer.Staged.Count >= _options.MaxStagedPackets)
        {
            peer.Staged.Dequeue().Return();
            Counters.Drop(WireGuardDropReason.StagedQueueFull);
        }

        peer.Staged.Enqueue(packet);
    }

    /// <summary>Queues a keepalive (an empty transport message) unless data is already waiting, then sends.</summary>
    private void SendKeepalive(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        if (peer.Staged.Count == 0)
        {
            peer.Staged.Enqueue(_pool.Rent());
        }

        SendStagedPackets(peer, now, output);
    }

    private void SendStagedPackets(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        if (peer.Staged.Count == 0)
        {
            return;
        }

        var keypair = peer.Current;
        if (keypair is null
            || keypair.SendCounter >= _timers.RejectAfterMessages
            || now - keypair.Created >= _timers.RejectAfterTime.Ticks)
        {
            SendHandshakeInitiation(peer, isRetry: false, now, output);
            return;
        }

        var sentAny = false;
        var sentData = false;
        while (peer.Staged.Count > 0)
        {
            if (keypair.SendCounter >= _timers.RejectAfterMessages)
            {
                // Counter space exhausted mid-batch: keep the rest staged and rekey.
                SendHandshakeInitiation(peer, isRetry: false, now, output);
                break;
            }

            var packet = peer.Staged.Dequeue();
            var isKeepalive = packet.Length == 0;
            if (!TrySeal(keypair, packet))
            {
                Counters.Drop(WireGuardDropReason.NoRoomForEncryption);
                packet.Return();
                continue;
            }

            if (!sentAny)
            {
                TimersAnyAuthenticatedPacketTraversal(peer, now);
                TimersAnyAuthenticatedPacketSent(peer);
                sentAny = true;
            }

            sentData |= !isKeepalive;
            SendToPeer(peer, packet, output);
        }

        if (sentData)
        {
            TimersDataSent(peer, now);
        }

        if (sentAny)
        {
            KeepKeyFreshSending(peer, now, output);
        }
    }

    /// <summary>Pads, encrypts in place and prepends the transport header; false when the buffer lacks head/tailroom.</summary>
    private bool TrySeal(Keypair keypair, PacketBuffer packet)
    {
        var length = packet.Length;
        var padding = PaddingSize(length, _options.Mtu);
        if (packet.Headroom < MessageLayout.TransportHeaderSize || packet.Tailroom < padding + MessageLayout.TagSize)
        {
            return false;
        }

        packet.Append(padding).Clear();
        var counter = keypair.SendCounter++;
        var tag = packet.Append(MessageLayout.TagSize);
        keypair.Send.Seal(counter, packet.Span[..(length + padding)], tag);
        var header = packet.Prepend(MessageLayout.TransportHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header, MessageLayout.TypeTransport);
        BinaryPrimitives.WriteUInt32LittleEndian(header[MessageLayout.TransportReceiver..], keypair.RemoteIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(header[MessageLayout.TransportCounter..], counter);
        return true;
    }

    /// <summary>wireguard-go calculatePaddingSize: round up to 16, never past the MTU.</summary>
    internal static int PaddingSize(int packetSize, int mtu)
    {
        var lastUnit = packetSize;
        if (mtu == 0)
        {
            return ((lastUnit + MessageLayout.PaddingMultiple - 1) & ~(MessageLayout.PaddingMultiple - 1)) - lastUnit;
        }

        if (lastUnit > mtu)
        {
            lastUnit %= mtu;
        }

        var padded = (lastUnit + MessageLayout.PaddingMultiple - 1) & ~(MessageLayout.PaddingMultiple - 1);
        if (padded > mtu)
        {
            padded = mtu;
        }

        return padded - lastUnit;
    }

    private void SendToPeer(WireGuardPeer peer, PacketBuffer datagram, IWireGuardOutput output)
    {
        if (!peer.Endpoint.IsSet)
        {
            Counters.Drop(WireGuardDropReason.NoEndpoint);
            datagram.Return();
            return;
        }

        peer.TxBytes += datagram.Length;
        output.SendDatagram(peer.Endpoint, datagram);
    }

    private void FlushStagedPackets(WireGuardPeer peer, WireGuardDropReason reason)
    {
        while (peer.Staged.TryDequeue(out var packet))
        {
            if (packet.Length != 0)
            {
                Counters.Drop(reason);
            }

            packet.Return();
        }
    }

    private void KeepKeyFreshSending(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        var keypair = peer.Current;
        if (keypair is null)
        {
            return;
        }

        if (keypair.SendCounter > _timers.RekeyAfterMessages
            || (keypair.IsInitiator && now - keypair.Created > _timers.RekeyAfterTime.Ticks))
        {
            SendHandshakeInitiation(peer, isRetry: false, now, output);
        }
    }

    private void KeepKeyFreshReceiving(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        if (peer.Timers.SentLastMinuteHandshake)
        {
            return;
        }

        var keypair = peer.Current;
        var threshold = _timers.RejectAfterTime - _timers.KeepaliveTimeout - _timers.RekeyTimeout;
        if (keypair is not null && keypair.IsInitiator && now - keypair.Created > threshold.Ticks)
        {
            peer.Timers.SentLastMinuteHandshake = true;
            SendHandshakeInitiation(peer, isRetry: false, now, output);
        }
    }

    /// <summary>Sets where to send to (configured endpoint); authenticated packets from elsewhere move it later.</summary>
    public void ConfigureEndpoint(WireGuardPeer peer, in UnderlayAddress endpoint)
    {
        ArgumentNullException.ThrowIfNull(peer);
        peer.Endpoint = endpoint;
    }
}
