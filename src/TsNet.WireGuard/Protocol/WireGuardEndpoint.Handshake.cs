using System.Buffers.Binary;

namespace TsNet.WireGuard.Protocol;

// Handshake path (wireguard-go RoutineHandshake, SendHandshakeInitiation/Response): cookie replies go to the
// peer's cookie generator; initiations and responses need a valid mac1, and under load a valid mac2 (else we
// answer with a cookie reply) and a token from the per-source rate limiter.
internal sealed partial class WireGuardEndpoint
{
    private void ReceiveHandshakeMessage(ReadOnlySpan<byte> message, in UnderlayAddress source, long now, int pendingHandshakes, IWireGuardOutput output)
    {
        var type = message[0];
        var expectedSize = type switch
        {
            (byte)MessageLayout.TypeInitiation => MessageLayout.InitiationSize,
            (byte)MessageLayout.TypeResponse => MessageLayout.ResponseSize,
            _ => MessageLayout.CookieReplySize,
        };
        if (message.Length != expectedSize)
        {
            Counters.Drop(WireGuardDropReason.BadHandshakeSize);
            return;
        }

        if (type == MessageLayout.TypeCookieReply)
        {
            ReceiveCookieReply(message, now);
            return;
        }

        if (!_cookieChecker.CheckMac1(message))
        {
            Counters.Drop(WireGuardDropReason.InvalidMac1);
            return;
        }

        if (IsUnderLoad(now, pendingHandshakes))
        {
            if (!_cookieChecker.CheckMac2(message, source, now, _timers.CookieRefreshTime))
            {
                SendCookieReply(message, source, now, output);
                Counters.Drop(WireGuardDropReason.UnderLoadCookieSent);
                return;
            }

            if (!_rateLimiter.Allow(source, now))
            {
                Counters.Drop(WireGuardDropReason.RateLimited);
                return;
            }
        }

        if (type == MessageLayout.TypeInitiation)
        {
            ReceiveInitiation(message, source, now, output);
        }
        else
        {
            ReceiveResponse(message, source, now, output);
        }
    }

    private void ReceiveCookieReply(ReadOnlySpan<byte> message, long now)
    {
        var receiver = BinaryPrimitives.ReadUInt32LittleEndian(message[MessageLayout.CookieReceiver..]);
        if (!_indices.TryGet(receiver, out var entry) || !entry.Peer.CookieGenerator.ConsumeReply(message, now))
        {
            Counters.Drop(WireGuardDropReason.InvalidCookieReply);
        }

        // As wireguard-go: no immediate resend; the retransmit timer resends with mac2.
    }

    private void SendCookieReply(ReadOnlySpan<byte> message, in UnderlayAddress source, long now, IWireGuardOutput output)
    {
        var buffer = _pool.Rent();
        var reply = buffer.Append(MessageLayout.CookieReplySize);
        var sender = BinaryPrimitives.ReadUInt32LittleEndian(message[MessageLayout.InitiationSender..]);
        _cookieChecker.CreateReply(message, sender, source, now, _timers.CookieRefreshTime, reply);
        Counters.CookieRepliesSent++;
        output.SendDatagram(source, buffer);
    }

    private void ReceiveInitiation(ReadOnlySpan<byte> message, in UnderlayAddress source, long now, IWireGuardOutput output)
    {
        Span<byte> chainKey = stackalloc byte[32];
        Span<byte> hash = stackalloc byte[32];
        Span<byte> initiatorStatic = stackalloc byte[32];
        Span<byte> timestamp = stackalloc byte[Tai64N.Size];
        try
        {
            if (!NoiseProtocol.TryOpenInitiationStatic(_staticKey, _publicKey, message, chainKey, hash, initiatorStatic))
            {
                Counters.Drop(WireGuardDropReason.InvalidInitiation);
                return;
            }

            if (!_peers.TryGetValue(PublicKeyId.From(initiatorStatic), out var peer))
            {
                Counters.Drop(WireGuardDropReason.UnknownPeer);
                return;
            }

            if (!peer.IsUsable || !NoiseProtocol.TryFinishInitiation(peer.StaticStatic, message, chainKey, hash, timestamp))
            {
                Counters.Drop(WireGuardDropReason.InvalidInitiation);
                return;
            }

            // Replay and flood rules (wireguard.md §4): a rejected initiation changes nothing.
            var handshake = peer.Handshake;
            if (!Tai64N.IsAfter(timestamp, handshake.LastTimestamp))
            {
                Counters.Drop(WireGuardDropReason.ReplayedInitiation);
                return;
            }

            if (now - handshake.LastInitiationConsumption <= _timers.HandshakeInitiationRate.Ticks)
            {
                Counters.Drop(WireGuardDropReason.FloodedInitiation);
                return;
            }

            chainKey.CopyTo(handshake.ChainKey);
            hash.CopyTo(handshake.Hash);
            message.Slice(MessageLayout.InitiationEphemeral, 32).CopyTo(handshake.RemoteEphemeral);
            handshake.RemoteIndex = BinaryPrimitives.ReadUInt32LittleEndian(message[MessageLayout.InitiationSender..]);
            timestamp.CopyTo(handshake.LastTimestamp);
            handshake.LastInitiationConsumption = now;
            handshake.State = HandshakeState.InitiationConsumed;

            peer.RxBytes += message.Length;
            TimersAnyAuthenticatedPacketTraversal(peer, now);
            TimersAnyAuthenticatedPacketReceived(peer);
            SetEndpoint(peer, source);
            SendHandshakeResponse(peer, now, output);
            Reschedule(peer);
        }
        finally
        {
            Wipe(chainKey);
            Wipe(hash);
        }
    }

    private void ReceiveResponse(ReadOnlySpan<byte> message, in UnderlayAddress source, long now, IWireGuardOutput output)
    {
        var receiver = BinaryPrimitives.ReadUInt32LittleEndian(message[MessageLayout.ResponseReceiver..]);
        if (!_indices.TryGet(receiver, out var entry) || entry.Keypair is not null)
        {
            Counters.Drop(WireGuardDropReason.UnknownReceiverIndex);
            return;
        }

        var peer = entry.Peer;
        var handshake = peer.Handshake;
        if (handshake.LocalIndex != receiver || !NoiseProtocol.ConsumeResponse(handshake, _staticKey, peer.PresharedKey, message))
        {
            Counters.Drop(WireGuardDropReason.InvalidResponse);
            return;
        }

        peer.RxBytes += message.Length;
        SetEndpoint(peer, source);
        TimersAnyAuthenticatedPacketTraversal(peer, now);
        TimersAnyAuthenticatedPacketReceived(peer);
        BeginSymmetricSession(peer, now);
        TimersSessionDerived(peer, now);
        TimersHandshakeComplete(peer, now);
        SendKeepalive(peer, now, output);
        Reschedule(peer);
    }

    /// <summary>Starts a handshake now (subject to the REKEY_TIMEOUT throttle), e.g. when a peer is configured.</summary>
    public void InitiateHandshake(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        ArgumentNullException.ThrowIfNull(peer);
        SendHandshakeInitiation(peer, isRetry: false, now, output);
    }

    /// <summary>
    /// Sends a fresh initiation unless one (or a response) went out less than REKEY_TIMEOUT ago.
    /// A non-retry call restarts the attempt count (new outbound data restarts the give-up cycle).
    /// </summary>
    private void SendHandshakeInitiation(WireGuardPeer peer, bool isRetry, long now, IWireGuardOutput output)
    {
        if (!isRetry)
        {
            peer.Timers.HandshakeAttempts = 0;
        }

        var handshake = peer.Handshake;
        if (now - handshake.LastSentHandshake < _timers.RekeyTimeout.Ticks)
        {
            return;
        }

        if (!peer.IsUsable)
        {
            Counters.Drop(WireGuardDropReason.PeerUnusable);
            return;
        }

        handshake.LastSentHandshake = now;
        if (BuildHandshakeMessage(peer, initiation: true, now) is not { } buffer)
        {
            return;
        }

        TimersAnyAuthenticatedPacketTraversal(peer, now);
        TimersAnyAuthenticatedPacketSent(peer);
        Counters.HandshakeInitiationsSent++;
        (peer.LastHandshakeMessage ??= new()).Record(buffer.Span, isInitiation: true, handshake.LocalIndex, now);
        SendToPeer(peer, buffer, output);
        TimersHandshakeInitiated(peer, now);
        Reschedule(peer);
        HandshakeInitiationSent?.Invoke(peer);
    }

    private void SendHandshakeResponse(WireGuardPeer peer, long now, IWireGuardOutput output)
    {
        peer.Handshake.LastSentHandshake = now;
        if (BuildHandshakeMessage(peer, initiation: false, now) is not { } buffer)
        {
            return;
        }

        (peer.LastHandshakeMessage ??= new()).Record(buffer.Span, isInitiation: false, peer.Handshake.LocalIndex, now);
        BeginSymmetricSession(peer, now);
        TimersSessionDerived(peer, now);
        TimersAnyAuthenticatedPacketTraversal(peer, now);
        TimersAnyAuthenticatedPacketSent(peer);
        Counters.HandshakeResponsesSent++;
        SendToPeer(peer, buffer, output);
    }

    /// <summary>
    /// Makes an initiation (or a response) for <paramref name="peer"/> under a fresh ephemeral key and a fresh receiver
    /// index, with mac1/mac2; null (and nothing left behind) when the Noise computation refuses.
    /// </summary>
    private Packets.Buffers.PacketBuffer? BuildHandshakeMessage(WireGuardPeer peer, bool initiation, long now)
    {
        var handshake = peer.Handshake;
        Span<byte> ephemeral = stackalloc byte[32];
        Span<byte> timestamp = stackalloc byte[Tai64N.Size];
        var buffer = _pool.Rent();
        try
        {
            GenerateEphemeral(ephemeral);
            _indices.Remove(handshake.LocalIndex);
            var index = _indices.AddHandshake(peer);
            var message = buffer.Append(initiation ? MessageLayout.InitiationSize : MessageLayout.ResponseSize);
            bool built;
            if (initiation)
            {
                NextTimestamp(timestamp);
                built = NoiseProtocol.CreateInitiation(_publicKey, peer.PublicKey, peer.StaticStatic, handshake, ephemeral, timestamp, index, message);
            }
            else
            {
                built = NoiseProtocol.CreateResponse(handshake, peer.PublicKey, peer.PresharedKey, ephemeral, index, message);
            }

            if (!built)
            {
                _indices.Remove(index);
                handshake.Clear();
                Counters.Drop(initiation ? WireGuardDropReason.PeerUnusable : WireGuardDropReason.InvalidInitiation);
                buffer.Return();
                return null;
            }

            peer.CookieGenerator.AddMacs(message, now, _timers.CookieRefreshTime);
            return buffer;
        }
        finally
        {
            Wipe(ephemeral);
        }
    }
}
