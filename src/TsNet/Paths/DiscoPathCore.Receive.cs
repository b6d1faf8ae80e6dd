using TsNet.WireGuard.Relay;
using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

internal sealed partial class DiscoPathCore
{
    /// <summary>Largest disco packet opened (pings padded for MTU probing stay below this); larger ones are dropped.</summary>
    public const int MaxDiscoPacketLength = 4096;

    // Opened plaintext lands here: one buffer reused for every packet (the core runs on one thread).
    private readonly byte[] _plaintext = new byte[MaxDiscoPacketLength];

    /// <summary>
    /// Handles a disco packet that arrived over UDP from <paramref name="source"/>. Pipeline: frame → sender disco
    /// key known → open box → Ping (learn the source, answer with a pong over UDP) or Pong (confirm a path).
    /// CallMeMaybe must come through DERP and is dropped here. Bad input is dropped and counted.
    /// </summary>
    public void ReceiveUdpDisco(ReadOnlySpan<byte> packet, in UnderlayAddress source, long now, IPathOutput output)
    {
        if (!TryOpen(packet, out var disco, out var length))
        {
            return;
        }

        if (!DiscoPacket.TryReadMessageHeader(_plaintext.AsSpan(0, length), out var type, out _, out var body))
        {
            Counters.DroppedMalformed++;
            return;
        }

        switch (type)
        {
            case DiscoMessageType.Ping:
                ReceiveUdpPing(disco, body, source, now, output);
                break;
            case DiscoMessageType.Pong:
                ReceivePong(disco, body, viaDerp: false, now);
                break;
            case DiscoMessageType.CallMeMaybe:
                Counters.DroppedWrongTransport++;
                break;
            default:
                Counters.IgnoredMessages++;
                break;
        }
    }

    /// <summary>
    /// Handles a disco packet that arrived through DERP region <paramref name="regionId"/> from the node
    /// <paramref name="sourceNodeKey"/>. The DERP source must be a known peer whose disco key is the packet's sender
    /// key (§3.6, §3.8). Ping → pong back through DERP; Pong → latency only (never a direct path); CallMeMaybe →
    /// replace that peer's CallMeMaybe candidates and ping all candidates now.
    /// </summary>
    public void ReceiveDerpDisco(ReadOnlySpan<byte> packet, int regionId, ReadOnlySpan<byte> sourceNodeKey, long now, IPathOutput output)
    {
        if (!TryOpen(packet, out var disco, out var length))
        {
            return;
        }

        if (!Key32.TryRead(sourceNodeKey, out var nodeKey) || !_peersByNodeKey.TryGetValue(nodeKey, out var peer) || peer.Disco != disco
            || regionId is <= 0 or > ushort.MaxValue)
        {
            Counters.DroppedWrongDerpSource++;
            return;
        }

        if (!DiscoPacket.TryReadMessageHeader(_plaintext.AsSpan(0, length), out var type, out var version, out var body))
        {
            Counters.DroppedMalformed++;
            return;
        }

        peer.LastDerpArrivalRegion = regionId;
        switch (type)
        {
            case DiscoMessageType.Ping:
                ReceiveDerpPing(peer, body, regionId, output);
                break;
            case DiscoMessageType.Pong:
                ReceivePong(disco, body, viaDerp: true, now);
                break;
            case DiscoMessageType.CallMeMaybe:
                ReceiveCallMeMaybe(peer, version, body, now, output);
                break;
            default:
                Counters.IgnoredMessages++;
                break;
        }
    }

    /// <summary>Frame, sender lookup and box opening into <see cref="_plaintext"/>; counts every drop.</summary>
    private bool TryOpen(ReadOnlySpan<byte> packet, out DiscoKeyEntry disco, out int length)
    {
        disco = null!;
        length = -1;
        if (packet.Length > MaxDiscoPacketLength || !DiscoPacket.TryParse(packet, out var senderKey, out var nonce, out var box))
        {
            Counters.DroppedMalformed++;
            return false;
        }

        if (!Key32.TryRead(senderKey, out var sender) || !_discoKeys.TryGetValue(sender, out var entry))
        {
            Counters.DroppedUnknownSender++;
            return false;
        }

        length = DiscoPacket.Open(entry.SharedKey, nonce, box, _plaintext);
        if (length < 0)
        {
            Counters.DroppedBadBox++;
            return false;
        }

        disco = entry;
        return true;
    }

    private void ReceiveUdpPing(DiscoKeyEntry disco, ReadOnlySpan<byte> body, in UnderlayAddress source, long now, IPathOutput output)
    {
        if (body.Length < TransactionId.Length || !IsUsableEndpoint(source))
        {
            Counters.DroppedMalformed++;
            return;
        }

        Counters.PingsReceived++;
        var txId = TransactionId.Read(body);

        // Every peer using this disco key learns the source (normally one); a repeated TxID is a duplicate.
        bool duplicate = false;
        foreach (var peer in disco.Peers)
        {
            duplicate |= NoteInboundPing(peer, source, txId, now);
        }

        if (duplicate)
        {
            Counters.DuplicatePings++;
            return;
        }

        Span<byte> packet = stackalloc byte[DiscoPacket.Overhead + PongLength];
        int length = WritePong(disco, txId, source, packet);
        Counters.PongsSent++;
        output.SendUdp(source, packet[..length]);
    }

    /// <summary>Adds or refreshes the ping's source as a candidate; true when the TxID repeats the last one from it.</summary>
    private bool NoteInboundPing(DiscoPeer peer, in UnderlayAddress source, in TransactionId txId, long now)
    {
        var candidate = peer.FindCandidate(source);
        if (candidate is null)
        {
            candidate = AddLearnedCandidate(peer, source, now);
        }
        else if (candidate.HasGotPing && candidate.LastGotPingTxId == txId)
        {
            return true;
        }

        candidate.LastGotPingTxId = txId;
        candidate.HasGotPing = true;
        if (!candidate.InNetmap)
        {
            // Netmap candidates live while listed; learned ones while pings keep coming.
            candidate.LastGotPing = now;
            NoteDeadline(now + _sessionActiveTimeout);
        }

        return false;
    }

    private void ReceiveDerpPing(DiscoPeer peer, ReadOnlySpan<byte> body, int regionId, IPathOutput output)
    {
        if (body.Length < TransactionId.Length)
        {
            Counters.DroppedMalformed++;
            return;
        }

        Counters.PingsReceived++;
        Span<byte> packet = stackalloc byte[DiscoPacket.Overhead + PongLength];
        int length = WritePong(peer.Disco!, TransactionId.Read(body), UnderlayAddress.Derp(regionId), packet);
        Counters.PongsSent++;
        output.SendDerp(regionId, peer.NodeKeyBytes, packet[..length]);
    }

    /// <summary>
    /// A pong (§3.7): match the TxID to an outstanding ping of a peer with this disco key; over UDP the pinged address
    /// becomes the best one when it scores better (or the trust window lapsed), and the best address is then trusted
    /// for another window. Pongs through DERP never make a direct path.
    /// </summary>
    private void ReceivePong(DiscoKeyEntry disco, ReadOnlySpan<byte> body, bool viaDerp, long now)
    {
        if (body.Length < TransactionId.Length + DiscoAddress.Length)
        {
            Counters.DroppedMalformed++;
            return;
        }

        var txId = TransactionId.Read(body);
        DiscoPeer? peer = null;
        DiscoSentPing ping = default;
        foreach (var candidatePeer in disco.Peers)
        {
            if (candidatePeer.TryTakeSentPing(txId, out ping))
            {
                peer = candidatePeer;
                break;
            }
        }

        if (peer is null)
        {
            Counters.UnknownPongs++;
            return;
        }

        Counters.PongsReceived++;
        if (viaDerp || peer.FindCandidate(ping.To) is null)
        {
            return;
        }

        var pong = new AddressQuality(ping.To, Math.Max(0, now - ping.SentAt));
        if (AddressQuality.IsBetter(pong, peer.Best) || now > peer.TrustUntil)
        {
            SetBest(peer, pong);
        }

        if (peer.Best.Address == pong.Address)
        {
            peer.Best = pong;
            peer.TrustUntil = now + _trustDuration;
        }
    }

    private void SetBest(DiscoPeer peer, in AddressQuality best)
    {
        peer.Best = best;

        // Datagrams from the best address belong to this peer even if another peer lists the same address.
        _peerBySource[best.Address] = peer.Id;
    }

    /// <summary>
    /// CallMeMaybe (§3.8): the listed endpoints replace the previous CallMeMaybe's, every candidate may be pinged again
    /// at once, and a round of pings goes out (no CallMeMaybe back: the peer is already pinging us).
    /// </summary>
    private void ReceiveCallMeMaybe(DiscoPeer peer, byte version, ReadOnlySpan<byte> body, long now, IPathOutput output)
    {
        Counters.CallMeMaybeReceived++;
        foreach (var candidate in peer.Candidates)
        {
            candidate.CallMeMaybeTime = Timestamps.Never;
        }

        // A wrong version or a length not a multiple of 18 means an empty list (disco-direct.md §1.3).
        if (version == 0 && body.Length % DiscoAddress.Length == 0)
        {
            int listed = 0;
            for (int offset = 0; offset < body.Length && listed < MaxLearnedCandidates; offset += DiscoAddress.Length)
            {
                var address = DiscoAddress.Read(body.Slice(offset, DiscoAddress.Length));
                if (!IsUsableEndpoint(address) || (address.IsIPv6 && DiscoAddress.IsLinkLocal(address)))
                {
                    continue;
                }

                var candidate = peer.FindCandidate(address) ?? AddLearnedCandidate(peer, address, now);
                candidate.CallMeMaybeTime = now;
                listed++;
            }
        }

        RemoveExpiredCandidates(peer, now);
        foreach (var candidate in peer.Candidates)
        {
            candidate.LastPing = Timestamps.Never;
        }

        SendDiscoPings(peer, now, sendCallMeMaybe: false, output);
    }
}
