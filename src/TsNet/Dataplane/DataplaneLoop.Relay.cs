using Microsoft.Extensions.Logging;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Dataplane;

// The client side of UDP relay paths (tailscale peer relay): per relayed peer a disco bind handshake with the relay
// (Bind → Challenge → Answer, protocol notes §4.4), then WireGuard messages Geneve-encapsulated to the relay's
// address. The WireGuard core sees "relay address + VNI" as the peer's endpoint; this file adds and strips the
// 8-byte Geneve header at the socket edge. Until our leg is bound, datagrams to the peer are dropped and counted
// (WireGuard's own handshake retry resends them); nothing is queued, so nothing here grows.
internal sealed partial class DataplaneLoop
{
    /// <summary>Binds per handshake: it gives up after about 10 s (below tailscale's min(bind lifetime, 30 s)) and starts over.</summary>
    internal const int BindsPerHandshake = 10;

    /// <summary>After an Answer with no relayed data from the peer yet: rebind this soon, in case the Answer was lost.</summary>
    internal static readonly long ConfirmTimeout = TimeSpan.FromSeconds(10).Ticks;

    /// <summary>
    /// Rebind period of a working path: a completed bind refreshes the relay's per-leg activity, so an idle path never
    /// reaches the relay's 5-minute steady-state lifetime; WireGuard traffic through the relay also counts there.
    /// </summary>
    internal static readonly long RefreshInterval = TimeSpan.FromMinutes(2).Ticks;

    private readonly Dictionary<UnderlayAddress, RelayPath> _relayPaths = [];
    private byte[] _relayScratch = [];
    private long _relayNextDeadline = Timestamps.NotArmed;
    private uint _relayGeneration;
    private long _relayNotBoundDrops;
    private long _relayUnknownPathDrops;
    private long _relayIgnored;
    private long _relayHandshakeFailures;

    /// <summary>Interval between Binds of one handshake while no Challenge has come back (1 s; tests shorten it).</summary>
    public TimeSpan RelayBindRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The node's disco private key (32 bytes); relay paths need it for the bind handshake.</summary>
    public byte[] DiscoPrivateKey { get; init; } = [];

    /// <summary>The configured relay paths (loop task only; tests read them through <see cref="InvokeAsync"/>).</summary>
    internal IReadOnlyCollection<RelayPath> RelayPaths => _relayPaths.Values;

    /// <summary>
    /// Sets (or with null, removes) the relay path of peer <paramref name="peerPublicKey"/>. An unchanged path keeps
    /// its binding; a new one starts its bind handshake now.
    /// </summary>
    public void ConfigureRelayPath(byte[] peerPublicKey, RelayPathSettings? settings, long now)
    {
        UnderlayAddress? existing = null;
        foreach (var (key, path) in _relayPaths)
        {
            if (path.PeerPublicKey.AsSpan().SequenceEqual(peerPublicKey))
            {
                existing = key;
                if (settings is not null && path.Settings == settings)
                {
                    return;
                }
            }
        }

        if (existing is { } old)
        {
            _relayPaths.Remove(old);
        }

        if (settings is null)
        {
            return;
        }

        _relayPaths[settings.Endpoint] = new RelayPath(peerPublicKey, settings) { NextActionAt = now };
        _relayNextDeadline = Math.Min(_relayNextDeadline, now);
        _wake.Set();
    }

    /// <summary>Test hook: every relay path starts a new bind handshake (new generation) now, keeping its current binding.</summary>
    internal void RestartRelayHandshakes(long now)
    {
        foreach (var path in _relayPaths.Values)
        {
            path.Client = null;
            path.NextActionAt = now;
        }

        _relayNextDeadline = Math.Min(_relayNextDeadline, now);
    }

    /// <summary>Relay drop and failure counters for the status snapshot (loop task only).</summary>
    internal void AddRelayCounters(IDictionary<string, long> drops)
    {
        DropCounters.AddIfNonZero(drops, "relay.NotBound", _relayNotBoundDrops);
        DropCounters.AddIfNonZero(drops, "relay.UnknownPath", _relayUnknownPathDrops);
        DropCounters.AddIfNonZero(drops, "relay.Ignored", _relayIgnored);
        DropCounters.AddIfNonZero(drops, "relay.HandshakeFailed", _relayHandshakeFailures);
    }

    private void PollRelays(long now)
    {
        var next = Timestamps.NotArmed;
        foreach (var path in _relayPaths.Values)
        {
            if (path.NextActionAt <= now)
            {
                ActOnRelayPath(path, now);
            }

            next = Math.Min(next, path.NextActionAt);
        }

        _relayNextDeadline = next;
    }

    private void ActOnRelayPath(RelayPath path, long now)
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
            StartRelayHandshake(path, now);
            return;
        }

        if (path.BindsSent >= BindsPerHandshake)
        {
            // No Challenge for the whole handshake: the relay is gone or no longer knows the VNI.
            if (path.Bound)
            {
                LogRelayPathLost(_logger, path.Settings.Endpoint.ToString());
            }

            path.Bound = false;
            path.Confirmed = false;
            _relayHandshakeFailures++;
            StartRelayHandshake(path, now);
            return;
        }

        SendBind(path, client, now);
    }

    private void StartRelayHandshake(RelayPath path, long now)
    {
        var settings = path.Settings;
        RelayHandshakeClient client;
        try
        {
            client = new RelayHandshakeClient(DiscoPrivateKey, settings.ServerKey, settings.PeerKey, settings.Vni, RelayHandshakeClient.NextGeneration(ref _relayGeneration));
        }
        catch (ArgumentException ex)
        {
            // A disco key that is a low-order point (or a missing private key): this path can never bind.
            LogRelayPathUnusable(_logger, settings.Endpoint.ToString(), ex.Message);
            _relayHandshakeFailures++;
            path.Client = null;
            path.NextActionAt = now + RefreshInterval;
            return;
        }

        path.Client = client;
        path.BindsSent = 0;
        SendBind(path, client, now);
    }

    private void SendBind(RelayPath path, RelayHandshakeClient client, long now)
    {
        Span<byte> bind = stackalloc byte[RelayHandshakeClient.HandshakeDatagramLength];
        var length = client.WriteBind(bind);
        _batch.Add(path.Settings.Server, bind[..length], _underlay);
        path.BindsSent++;
        path.NextActionAt = now + RelayBindRetryInterval.Ticks;
    }

    /// <summary>
    /// Handles a datagram if it is Geneve-framed relay traffic (true: consumed, buffer given away); false for
    /// anything else (direct WireGuard). WireGuard bytes 2–3 are always zero, so they never carry a Geneve protocol.
    /// </summary>
    private bool TryHandleRelayed(in UnderlayDatagram datagram, long now)
    {
        var span = datagram.Buffer.Span;
        if (!GeneveHeader.LooksLikeGeneve(span) || !GeneveHeader.TryDecode(span, out var header)
            || header.Protocol is not (GeneveHeader.ProtocolDisco or GeneveHeader.ProtocolWireGuard))
        {
            return false;
        }

        if (header.Vni == 0 || !_relayPaths.TryGetValue(datagram.Source.WithVni(header.Vni), out var path))
        {
            _relayUnknownPathDrops++;
            datagram.Buffer.Return();
            return true;
        }

        if (header.Control)
        {
            HandleRelayControl(path, span, datagram.Source, now);
            datagram.Buffer.Return();
            return true;
        }

        if (header.Protocol != GeneveHeader.ProtocolWireGuard)
        {
            // Disco pings between the peers through the relay: path discovery is not implemented yet.
            _relayIgnored++;
            datagram.Buffer.Return();
            return true;
        }

        path.LastReceivedAt = now;
        path.Confirmed = true;
        datagram.Buffer.TrimFront(GeneveHeader.Length);
        _core.ReceiveDatagram(datagram.Buffer, path.Settings.Endpoint, now, 0, this);
        return true;
    }

    private void HandleRelayControl(RelayPath path, ReadOnlySpan<byte> datagram, in UnderlayAddress from, long now)
    {
        Span<byte> answer = stackalloc byte[RelayHandshakeClient.HandshakeDatagramLength];
        var length = path.Client?.HandleChallenge(datagram, from, answer) ?? 0;
        if (length == 0)
        {
            // A duplicate or stale Challenge, or one not meant for this handshake.
            _relayIgnored++;
            return;
        }

        _batch.Add(from, answer[..length], _underlay);
        path.Bound = true;
        path.AnsweredAt = now;
        path.HandshakesCompleted++;
        path.NextActionAt = now + (path.Confirmed ? RefreshInterval : ConfirmTimeout);
        _relayNextDeadline = Math.Min(_relayNextDeadline, path.NextActionAt);
    }

    /// <summary>Frames a WireGuard datagram for a relayed destination and queues it to the relay; takes the buffer.</summary>
    private void SendRelayed(in UnderlayAddress destination, PacketBuffer datagram)
    {
        if (!_relayPaths.TryGetValue(destination, out var path) || !path.Bound)
        {
            _relayNotBoundDrops++;
            datagram.Return();
            return;
        }

        var header = new GeneveHeader(0, false, GeneveHeader.ProtocolWireGuard, destination.Vni);
        if (datagram.Headroom >= GeneveHeader.Length)
        {
            header.Encode(datagram.Prepend(GeneveHeader.Length));
            _batch.Add(path.Settings.Server, datagram.Span, _underlay);
        }
        else
        {
            // Buffers normally keep headroom for this header; copy the rare one that does not.
            var needed = GeneveHeader.Length + datagram.Length;
            if (_relayScratch.Length < needed)
            {
                _relayScratch = new byte[Math.Max(needed, PacketBufferPool.DefaultBufferSize)];
            }

            header.Encode(_relayScratch);
            datagram.Span.CopyTo(_relayScratch.AsSpan(GeneveHeader.Length));
            _batch.Add(path.Settings.Server, _relayScratch.AsSpan(0, needed), _underlay);
        }

        datagram.Return();
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Relay path {Path} lost: the relay stopped answering binds; traffic to the peer is dropped until it binds again")]
    private static partial void LogRelayPathLost(ILogger logger, string path);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Relay path {Path} cannot bind: {Reason}")]
    private static partial void LogRelayPathUnusable(ILogger logger, string path, string reason);
}
