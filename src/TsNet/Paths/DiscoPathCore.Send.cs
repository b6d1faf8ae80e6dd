using System.Net;
using TsNet.WireGuard.Relay;
using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

internal sealed partial class DiscoPathCore
{
    // Ping inner payload: type, version, TxID, our node key (no padding: path MTU is not probed).
    private const int PingLength = DiscoPacket.MessageHeaderLength + TransactionId.Length + Key32.Size;

    // Pong inner payload: type, version, TxID, observed source (18).
    private const int PongLength = DiscoPacket.MessageHeaderLength + TransactionId.Length + DiscoAddress.Length;

    private byte[] _callMeMaybe = [(byte)DiscoMessageType.CallMeMaybe, 0];

    /// <summary>When <see cref="SetLocalEndpoints"/> last ran.</summary>
    public long LocalEndpointsAt { get; private set; } = Timestamps.Never;

    /// <summary>
    /// When this node's endpoints were last re-determined (<see cref="NoteEndpointsRefreshed"/>: a netcheck report
    /// finished); <see cref="Timestamps.Never"/> before. A CallMeMaybe needs this within
    /// <see cref="DiscoPathTimings.EndpointsFreshEnough"/>.
    /// </summary>
    public long EndpointsRefreshedAt { get; private set; } = Timestamps.Never;

    /// <summary>
    /// Raised on the loop (with core time) whenever a CallMeMaybe was held back because this node's endpoints are
    /// stale: the owner starts a re-STUN and calls <see cref="NoteEndpointsRefreshed"/> when it finishes. At most once
    /// per held-back CallMeMaybe, so at most once per peer per ping interval; a request while one runs changes nothing.
    /// </summary>
    public event Action<long>? EndpointRefreshNeeded;

    /// <summary>
    /// This node's endpoints were just re-determined (a netcheck report finished, with or without STUN answers, or
    /// there is nothing to STUN): every CallMeMaybe held back for it goes out now, through DERP (§3.4).
    /// </summary>
    public void NoteEndpointsRefreshed(long now, IPathOutput output)
    {
        EndpointsRefreshedAt = now;
        foreach (var peer in _peersById.Values)
        {
            if (!peer.CallMeMaybePending)
            {
                continue;
            }

            peer.CallMeMaybePending = false;
            if (peer.Disco is not null && peer.DerpRegion != 0)
            {
                SendCallMeMaybe(peer, peer.DerpRegion, output);
            }
        }
    }

    /// <summary>
    /// The path for one WireGuard datagram to <paramref name="peerId"/> (disco-direct.md §3.3): the trusted best
    /// address alone, else the best address (if any) and the peer's DERP region while a discovery round runs (at most
    /// one ping per candidate per ping interval). Notes outbound activity, which keeps heartbeats going.
    /// </summary>
    public PathChoice ChooseSend(uint peerId, long now, IPathOutput output)
    {
        if (!_peersById.TryGetValue(peerId, out var peer))
        {
            return default;
        }

        peer.LastSendActivity = now;
        if (peer.HeartbeatAt == Timestamps.NotArmed && peer.Disco is not null)
        {
            peer.HeartbeatAt = now + _heartbeatInterval;
            NoteDeadline(peer.HeartbeatAt);
        }

        var best = peer.Best.Address;
        if (best.IsSet && now <= peer.TrustUntil)
        {
            return new PathChoice(best, 0) { Trusted = true };
        }

        if (peer.Disco is not null)
        {
            SendDiscoPings(peer, now, sendCallMeMaybe: true, output);
        }

        return new PathChoice(best, peer.DerpRegion);
    }

    /// <summary>Sets this node's endpoints (local and STUN-observed) that CallMeMaybe announces.</summary>
    public void SetLocalEndpoints(IReadOnlyList<IPEndPoint> endpoints, long now)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        int count = Math.Min(endpoints.Count, MaxLocalEndpoints);
        var message = new byte[DiscoPacket.MessageHeaderLength + (count * DiscoAddress.Length)];
        message[0] = (byte)DiscoMessageType.CallMeMaybe;
        int written = 0;
        for (int i = 0; i < count; i++)
        {
            var address = UnderlayAddress.FromIPEndPoint(endpoints[i]);
            if (IsUsableEndpoint(address))
            {
                DiscoAddress.Write(address, message.AsSpan(DiscoPacket.MessageHeaderLength + (written++ * DiscoAddress.Length)));
            }
        }

        _callMeMaybe = message.AsSpan(0, DiscoPacket.MessageHeaderLength + (written * DiscoAddress.Length)).ToArray();
        LocalEndpointsAt = now;
    }

    /// <summary>
    /// A discovery round (magicsock <c>sendDiscoPingsLocked</c>, §3.4): ping every live candidate not pinged within
    /// the ping interval; if any ping went out, ask the peer over DERP to ping us back (CallMeMaybe) so both NATs open.
    /// </summary>
    private void SendDiscoPings(DiscoPeer peer, long now, bool sendCallMeMaybe, IPathOutput output)
    {
        peer.LastFullPing = now;
        bool sentAny = false;
        for (int i = peer.Candidates.Count - 1; i >= 0; i--)
        {
            var candidate = peer.Candidates[i];
            if (candidate.IsExpired(now, _sessionActiveTimeout))
            {
                RemoveCandidateAt(peer, i);
                continue;
            }

            if (candidate.LastPing != Timestamps.Never && now - candidate.LastPing < _discoPingInterval)
            {
                continue;
            }

            SendPing(peer, candidate, now, DiscoPingPurpose.Discovery, output);
            sentAny = true;
        }

        int region = peer.DerpRegion;
        if (sentAny && sendCallMeMaybe && region != 0)
        {
            if (EndpointsRefreshedAt != Timestamps.Never && now - EndpointsRefreshedAt <= _endpointsFreshEnough)
            {
                SendCallMeMaybe(peer, region, output);
            }
            else
            {
                // §3.4: announcing stale endpoints would have the peer ping addresses we may no longer have.
                peer.CallMeMaybePending = true;
                Counters.CallMeMaybeDeferred++;
                EndpointRefreshNeeded?.Invoke(now);
            }
        }
    }

    private void SendPing(DiscoPeer peer, DiscoCandidate candidate, long now, DiscoPingPurpose purpose, IPathOutput output)
    {
        Span<byte> txIdBytes = stackalloc byte[TransactionId.Length];
        _random(txIdBytes);
        var txId = TransactionId.Read(txIdBytes);

        Span<byte> message = stackalloc byte[PingLength];
        message[0] = (byte)DiscoMessageType.Ping;
        message[1] = 0;
        txIdBytes.CopyTo(message[DiscoPacket.MessageHeaderLength..]);
        _nodePublicKey.CopyTo(message[(DiscoPacket.MessageHeaderLength + TransactionId.Length)..]);

        Span<byte> packet = stackalloc byte[DiscoPacket.Overhead + PingLength];
        int length = Seal(peer.Disco!, message, packet);

        candidate.LastPing = now;
        peer.AddSentPing(new DiscoSentPing(txId, candidate.Address, now, purpose));
        NoteDeadline(now + _pingTimeout);
        Counters.PingsSent++;
        output.SendUdp(candidate.Address, packet[..length]);
    }

    private void SendCallMeMaybe(DiscoPeer peer, int region, IPathOutput output)
    {
        Span<byte> packet = stackalloc byte[DiscoPacket.Overhead + DiscoPacket.MessageHeaderLength + (MaxLocalEndpoints * DiscoAddress.Length)];
        int length = Seal(peer.Disco!, _callMeMaybe, packet);
        Counters.CallMeMaybeSent++;
        output.SendDerp(region, peer.NodeKeyBytes, packet[..length]);
    }

    /// <summary>Writes a pong for <paramref name="txId"/> reporting <paramref name="observed"/> as the ping's source.</summary>
    private int WritePong(DiscoKeyEntry disco, in TransactionId txId, in UnderlayAddress observed, Span<byte> packet)
    {
        Span<byte> message = stackalloc byte[PongLength];
        message[0] = (byte)DiscoMessageType.Pong;
        message[1] = 0;
        txId.Write(message[DiscoPacket.MessageHeaderLength..]);
        DiscoAddress.Write(observed, message[(DiscoPacket.MessageHeaderLength + TransactionId.Length)..]);
        return Seal(disco, message, packet);
    }

    private int Seal(DiscoKeyEntry disco, ReadOnlySpan<byte> message, Span<byte> packet)
    {
        Span<byte> nonce = stackalloc byte[DiscoPacket.NonceLength];
        _random(nonce);
        return DiscoPacket.Seal(_publicKey, disco.SharedKey, nonce, message, packet);
    }
}
