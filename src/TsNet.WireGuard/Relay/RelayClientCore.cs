using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// Sans-IO client side of UDP relay paths (tailscale peer relay), one path per relayed peer: the disco bind handshake
/// with the relay (Bind → Challenge → Answer, protocol notes §4.4) and its schedule — a Bind resent every
/// <see cref="BindRetryInterval"/> while unanswered, a rebind <see cref="ConfirmTimeout"/> after an Answer that no
/// relayed data confirmed, a refresh every <see cref="RefreshInterval"/> of a working path, and a lost path after
/// <see cref="BindsPerHandshake"/> unanswered Binds. Time is passed in (100 ns ticks); what it sends goes to an
/// <see cref="IRelayClientOutput"/>. Not thread-safe: one owner (the dataplane loop) drives it.
/// </summary>
internal sealed class RelayClientCore
{
    /// <summary>Binds per handshake: it gives up after about 10 s (below tailscale's min(bind lifetime, 30 s)) and starts over.</summary>
    public const int BindsPerHandshake = 10;

    /// <summary>After an Answer with no relayed data from the peer yet: rebind this soon, in case the Answer was lost.</summary>
    public static readonly long ConfirmTimeout = TimeSpan.FromSeconds(10).Ticks;

    /// <summary>
    /// Rebind period of a working path: a completed bind refreshes the relay's per-leg activity, so an idle path never
    /// reaches the relay's 5-minute steady-state lifetime; WireGuard traffic through the relay also counts there.
    /// </summary>
    public static readonly long RefreshInterval = TimeSpan.FromMinutes(2).Ticks;

    private readonly Dictionary<UnderlayAddress, RelayClientPath> _paths = [];
    private readonly byte[] _discoPrivateKey;
    private uint _generation;

    /// <param name="discoPrivateKey">This node's disco private key (32 bytes).</param>
    /// <param name="bindRetryInterval">Interval between Binds of one handshake while no Challenge has come back (ticks).</param>
    public RelayClientCore(byte[] discoPrivateKey, long bindRetryInterval)
    {
        ArgumentNullException.ThrowIfNull(discoPrivateKey);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bindRetryInterval);
        _discoPrivateKey = discoPrivateKey;
        BindRetryInterval = bindRetryInterval;
    }

    /// <summary>Interval between Binds of one handshake while no Challenge has come back (ticks).</summary>
    public long BindRetryInterval { get; }

    /// <summary>When <see cref="Poll"/> next has work (<see cref="Timestamps.NotArmed"/> without paths).</summary>
    public long NextDeadline { get; private set; } = Timestamps.NotArmed;

    /// <summary>The configured paths.</summary>
    public IReadOnlyCollection<RelayClientPath> Paths => _paths.Values;

    /// <summary>Datagrams for a relayed peer dropped because its path is not bound (WireGuard's retry resends them).</summary>
    public long NotBoundDrops { get; private set; }

    /// <summary>Geneve datagrams from an address and VNI that is no configured path.</summary>
    public long UnknownPathDrops { get; private set; }

    /// <summary>
    /// Relay datagrams ignored: stale Challenges, disco between the peers through the relay (path discovery pings the
    /// peer's endpoint over plain UDP, never through the relay).
    /// </summary>
    public long Ignored { get; private set; }

    /// <summary>Handshakes given up (no Challenge for a whole handshake) or never possible (unusable keys).</summary>
    public long HandshakeFailures { get; private set; }

    /// <summary>
    /// Sets the relay path of peer <paramref name="peerPublicKey"/>: an unchanged path keeps its binding; a new one
    /// starts its bind handshake at the next <see cref="Poll"/> (due now).
    /// </summary>
    public void ConfigurePath(byte[] peerPublicKey, UnderlayAddress server, DiscoKey serverKey, uint vni, DiscoKey peerKey, long now)
    {
        ArgumentNullException.ThrowIfNull(peerPublicKey);
        var existing = Find(peerPublicKey);
        if (existing is not null && existing.Matches(server, serverKey, vni, peerKey))
        {
            return;
        }

        if (existing is not null)
        {
            _paths.Remove(existing.Endpoint);
        }

        var path = new RelayClientPath(peerPublicKey, server, serverKey, vni, peerKey) { NextActionAt = now };
        _paths[path.Endpoint] = path;
        NextDeadline = Math.Min(NextDeadline, now);
    }

    /// <summary>Removes the relay path of peer <paramref name="peerPublicKey"/>; false when it had none.</summary>
    public bool RemovePath(byte[] peerPublicKey)
    {
        ArgumentNullException.ThrowIfNull(peerPublicKey);
        return Find(peerPublicKey) is { } path && _paths.Remove(path.Endpoint);
    }

    /// <summary>Every path starts a new bind handshake (new generation) at the next poll, keeping its current binding.</summary>
    public void RestartHandshakes(long now)
    {
        foreach (var path in _paths.Values)
        {
            path.Client = null;
            path.NextActionAt = now;
        }

        NextDeadline = Math.Min(NextDeadline, now);
    }

    /// <summary>Acts on every path that is due at <paramref name="now"/> and re-arms <see cref="NextDeadline"/>.</summary>
    public void Poll(long now, IRelayClientOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var next = Timestamps.NotArmed;
        foreach (var path in _paths.Values)
        {
            if (path.NextActionAt <= now)
            {
                Act(path, now, output);
            }

            next = Math.Min(next, path.NextActionAt);
        }

        NextDeadline = next;
    }

    /// <summary>
    /// Looks at a received datagram. Geneve-framed relay traffic from a configured path is handled here (a Challenge
    /// is answered through <paramref name="output"/>) or reported as <see cref="RelayClientReceiveResult.WireGuard"/>
    /// with the path's endpoint as <paramref name="source"/>; anything else is <see cref="RelayClientReceiveResult.NotRelayed"/>.
    /// WireGuard bytes 2–3 are always zero, so a WireGuard message never looks like a Geneve protocol.
    /// </summary>
    public RelayClientReceiveResult Receive(ReadOnlySpan<byte> datagram, in UnderlayAddress from, long now, IRelayClientOutput output, out UnderlayAddress source)
    {
        ArgumentNullException.ThrowIfNull(output);
        source = from;
        if (!GeneveHeader.LooksLikeGeneve(datagram) || !GeneveHeader.TryDecode(datagram, out var header)
            || header.Protocol is not (GeneveHeader.ProtocolDisco or GeneveHeader.ProtocolWireGuard))
        {
            return RelayClientReceiveResult.NotRelayed;
        }

        if (header.Vni == 0 || !_paths.TryGetValue(from.WithVni(header.Vni), out var path))
        {
            UnknownPathDrops++;
            return RelayClientReceiveResult.Consumed;
        }

        if (header.Control)
        {
            HandleControl(path, datagram, from, now, output);
            return RelayClientReceiveResult.Consumed;
        }

        if (header.Protocol != GeneveHeader.ProtocolWireGuard)
        {
            // Disco between the peers through the relay: static path selection pings the endpoint directly, so the
            // relay path is never probed (it is the fallback, bound and refreshed by the handshake above).
            Ignored++;
            return RelayClientReceiveResult.Consumed;
        }

        path.LastReceivedAt = now;
        path.Confirmed = true;
        source = path.Endpoint;
        return RelayClientReceiveResult.WireGuard;
    }

    /// <summary>
    /// Where a WireGuard datagram for the relayed <paramref name="destination"/> (relay address + VNI) goes: the relay
    /// server's address. False (dropped and counted) when the path is unknown or not bound yet.
    /// </summary>
    public bool TryGetRelay(in UnderlayAddress destination, out UnderlayAddress server)
    {
        if (_paths.TryGetValue(destination, out var path) && path.Bound)
        {
            server = path.Server;
            return true;
        }

        NotBoundDrops++;
        server = default;
        return false;
    }

    /// <summary>
    /// True when the relayed <paramref name="endpoint"/> (relay address + VNI) is a configured path whose leg is bound,
    /// so a datagram sent there would go out (nothing is counted, unlike <see cref="TryGetRelay"/>).
    /// </summary>
    public bool IsBound(in UnderlayAddress endpoint) => _paths.TryGetValue(endpoint, out var path) && path.Bound;

    private RelayClientPath? Find(byte[] peerPublicKey)
    {
        foreach (var path in _paths.Values)
        {
            if (path.PeerPublicKey.AsSpan().SequenceEqual(peerPublicKey))
            {
                return path;
            }
        }

        return null;
    }

    private void Act(RelayClientPath path, long now, IRelayClientOutput output)
    {
        var client = path.Client;
        if (client is { State: RelayHandshakeClientState.AnswerSent } && path.Confirmed && now - path.AnsweredAt < RefreshInterval)
        {
            // Relayed data came back after our Answer: the binding works; refresh it later.
            path.NextActionAt = path.AnsweredAt + RefreshInterval;
            return;
        }

        if (client is null || client.State == RelayHandshakeClientState.AnswerSent)
        {
            // First bind, refresh of a working binding, or an Answer that may have been lost.
            StartHandshake(path, now, output);
            return;
        }

        if (path.BindsSent >= BindsPerHandshake)
        {
            // No Challenge for the whole handshake: the relay is gone or no longer knows the VNI.
            if (path.Bound)
            {
                output.PathLost(path);
            }

            path.Bound = false;
            path.Confirmed = false;
            HandshakeFailures++;
            StartHandshake(path, now, output);
            return;
        }

        SendBind(path, client, now, output);
    }

    private void StartHandshake(RelayClientPath path, long now, IRelayClientOutput output)
    {
        RelayHandshakeClient client;
        try
        {
            client = new RelayHandshakeClient(_discoPrivateKey, path.ServerKey, path.PeerKey, path.Vni, RelayHandshakeClient.NextGeneration(ref _generation));
        }
        catch (ArgumentException ex)
        {
            // A disco key that is a low-order point (or a missing private key): this path can never bind.
            output.PathUnusable(path, ex.Message);
            HandshakeFailures++;
            path.Client = null;
            path.NextActionAt = now + RefreshInterval;
            return;
        }

        path.Client = client;
        path.BindsSent = 0;
        SendBind(path, client, now, output);
    }

    private void SendBind(RelayClientPath path, RelayHandshakeClient client, long now, IRelayClientOutput output)
    {
        Span<byte> bind = stackalloc byte[RelayHandshakeClient.HandshakeDatagramLength];
        var length = client.WriteBind(bind);
        output.SendToRelay(path.Server, bind[..length]);
        path.BindsSent++;
        path.NextActionAt = now + BindRetryInterval;
    }

    private void HandleControl(RelayClientPath path, ReadOnlySpan<byte> datagram, in UnderlayAddress from, long now, IRelayClientOutput output)
    {
        Span<byte> answer = stackalloc byte[RelayHandshakeClient.HandshakeDatagramLength];
        var length = path.Client?.HandleChallenge(datagram, from, answer) ?? 0;
        if (length == 0)
        {
            // A duplicate or stale Challenge, or one not meant for this handshake.
            Ignored++;
            return;
        }

        output.SendToRelay(from, answer[..length]);
        path.Bound = true;
        path.AnsweredAt = now;
        path.HandshakesCompleted++;
        path.NextActionAt = now + (path.Confirmed ? RefreshInterval : ConfirmTimeout);
        NextDeadline = Math.Min(NextDeadline, path.NextActionAt);
    }
}
