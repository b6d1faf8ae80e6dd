using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Paths;

/// <summary>
/// Static mode's path layer, over the relay layer: a static peer configured with both an endpoint and a relay path
/// gets disco path selection by the control-mode core (<see cref="DiscoPathCore"/>; the relay path's peer disco key
/// is the peer's disco key, its endpoint the only candidate). WireGuard sends to the peer's virtual
/// <see cref="UnderlayAddress.PeerPath(uint)"/> address; this layer sends each datagram over the direct address while
/// a pong keeps it trusted (heartbeats every 3 s, trust 6.5 s), else through the relay — so WireGuard sessions never
/// notice a switch. Every other peer (relay only, endpoint only) passes through untouched, and until the first path
/// peer is configured no disco runs at all (wireguard-go peers do not speak it). Loop task only, like every underlay.
/// </summary>
internal sealed partial class StaticPathUnderlay : IUnderlay, IPathOutput
{
    private readonly Dictionary<uint, StaticPathRoute> _routes = [];
    private readonly Dictionary<UnderlayAddress, uint> _peerByRelay = [];
    private readonly byte[] _discoPrivateKey;
    private readonly byte[] _nodePublicKey;
    private readonly DiscoPathTimings? _timings;
    private readonly Func<long> _now;
    private readonly ILogger _logger;
    private DiscoPathCore? _disco;

    /// <param name="inner">The relay layer (Geneve framing and bind handshakes) over the bound transport.</param>
    /// <param name="discoPrivateKey">The node's disco private key (32 bytes; checked when the first path peer comes).</param>
    /// <param name="nodePublicKey">The node's WireGuard public key, named in every ping.</param>
    /// <param name="timings">Disco timers; the defaults when null.</param>
    /// <param name="now">The dataplane's clock (core time).</param>
    /// <param name="logger">Where path switches are logged.</param>
    public StaticPathUnderlay(RelayUnderlay inner, ReadOnlySpan<byte> discoPrivateKey, ReadOnlySpan<byte> nodePublicKey, DiscoPathTimings? timings, Func<long> now, ILogger logger)
    {
        Inner = inner;
        _discoPrivateKey = discoPrivateKey.ToArray();
        _nodePublicKey = nodePublicKey.ToArray();
        _timings = timings;
        _now = now;
        _logger = logger;
    }

    /// <summary>The relay layer underneath.</summary>
    public RelayUnderlay Inner { get; }

    /// <summary>The disco core, made when the first path peer is configured (null before).</summary>
    public DiscoPathCore? Disco => _disco;

    /// <summary>Datagrams to a virtual path address with no peer behind it (removed meanwhile): dropped.</summary>
    public long NoPathDrops { get; private set; }

    /// <summary>Times a peer's traffic moved from the relay to its direct path (tests and diagnostics).</summary>
    public long SwitchesToDirect { get; private set; }

    /// <summary>Times a peer's traffic moved from its direct path back to the relay.</summary>
    public long SwitchesToRelay { get; private set; }

    public int Port => Inner.Port;

    public long InboundDrops => Inner.InboundDrops;

    public long SendDrops => Inner.SendDrops;

    public IEnumerable<Task> Tasks => Inner.Tasks;

    public long NextDeadline => Math.Min(Inner.NextDeadline, _disco?.NextDeadline ?? Timestamps.NotArmed);

    public void Start() => Inner.Start();

    /// <summary>
    /// Adds or updates a path peer: <paramref name="direct"/> is its configured endpoint (the one candidate),
    /// <paramref name="relay"/> its relay path (whose peer key is the peer's disco key). Returns the peer's virtual
    /// address, WireGuard's fixed endpoint for it.
    /// </summary>
    /// <exception cref="ArgumentException">The node's disco private key is not 32 bytes.</exception>
    public UnderlayAddress SetPeer(WireGuardPeer peer, IPEndPoint direct, RelayPathSettings relay, long now)
    {
        _disco ??= new DiscoPathCore(_discoPrivateKey, _nodePublicKey, _timings);
        var id = _disco.SetPeer(peer.PublicKey, relay.PeerKey, 0, [direct], now);
        if (_routes.TryGetValue(id, out var previous))
        {
            _peerByRelay.Remove(previous.Relay);
        }

        _routes[id] = new StaticPathRoute(peer, UnderlayAddress.FromIPEndPoint(direct), relay.Endpoint);
        _peerByRelay[relay.Endpoint] = id;
        return UnderlayAddress.PeerPath(id);
    }

    /// <summary>Forgets a path peer (no-op for any other key).</summary>
    public void RemovePeer(ReadOnlySpan<byte> nodeKey)
    {
        if (_disco is not { } disco)
        {
            return;
        }

        var id = disco.PeerForNodeKey(nodeKey);
        if (id != 0 && _routes.Remove(id, out var route))
        {
            _peerByRelay.Remove(route.Relay);
        }

        disco.RemovePeer(nodeKey);
    }

    /// <summary>The path a path peer's traffic takes now (Direct while trusted, else Relay), for status.</summary>
    public PeerPathStatus PathOf(in UnderlayAddress endpoint, long now)
    {
        if (_disco is not { } disco || !endpoint.IsPeerPath || !_routes.ContainsKey(endpoint.PeerPathId))
        {
            return default;
        }

        var status = disco.GetPathStatus(endpoint.PeerPathId, now);
        return disco.IsDirectTrusted(endpoint.PeerPathId, now) ? status : status with { Kind = PathKind.Relay };
    }

    /// <summary>The relay path (relay address + VNI) of a path peer's virtual address; <c>default</c> for any other.</summary>
    public UnderlayAddress RelayOf(in UnderlayAddress endpoint) =>
        endpoint.IsPeerPath && _routes.TryGetValue(endpoint.PeerPathId, out var route) ? route.Relay : default;

    public void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        if (!destination.IsPeerPath)
        {
            Inner.Send(destination, datagram);
            return;
        }

        if (TryChoose(destination.PeerPathId, out var target))
        {
            Inner.Send(target, datagram);
        }
    }

    public void Send(in UnderlayAddress destination, PacketBuffer datagram)
    {
        if (!destination.IsPeerPath)
        {
            Inner.Send(destination, datagram);
            return;
        }

        if (TryChoose(destination.PeerPathId, out var target))
        {
            Inner.Send(target, datagram);
        }
    }

    public void Flush() => Inner.Flush();

    public UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now)
    {
        var result = Inner.Receive(ref datagram, now);
        if (result == UnderlayReceiveResult.Consumed || _disco is not { } disco)
        {
            return result;
        }

        if (result == UnderlayReceiveResult.Unwrapped)
        {
            // WireGuard through the relay: from the peer's virtual address, like its direct datagrams.
            if (_peerByRelay.TryGetValue(datagram.Source, out var relayed))
            {
                datagram = new UnderlayDatagram(datagram.Buffer, UnderlayAddress.PeerPath(relayed));
            }

            return result;
        }

        var span = datagram.Buffer.Span;
        if (DiscoPacket.LooksLikeDisco(span))
        {
            // Only a path peer's disco key opens the box: anything else is dropped and counted by the core.
            disco.ReceiveUdpDisco(span, datagram.Source, now, this);
            datagram.Buffer.Return();
            return UnderlayReceiveResult.Consumed;
        }

        var id = disco.PeerForUdpSource(datagram.Source);
        if (id != 0 && _routes.ContainsKey(id))
        {
            datagram = new UnderlayDatagram(datagram.Buffer, UnderlayAddress.PeerPath(id));
        }

        return result;
    }

    public void Poll(long now)
    {
        if (Inner.NextDeadline <= now)
        {
            Inner.Poll(now);
        }

        if (_disco is { } disco && disco.NextDeadline <= now)
        {
            disco.Poll(now, this);
        }
    }

    void IPathOutput.SendUdp(in UnderlayAddress destination, ReadOnlySpan<byte> datagram) => Inner.Send(destination, datagram);

    void IPathOutput.SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram)
    {
        // Path peers have no DERP region (0), so the core never sends here; a datagram that did would have no route.
        NoPathDrops++;
    }

    /// <summary>Path drop counters for the status snapshot (loop task only); nothing before the first path peer.</summary>
    public void AddCounters(IDictionary<string, long> drops)
    {
        if (_disco is not { } disco)
        {
            return;
        }

        DropCounters.AddIfNonZero(drops, "paths.NoPath", NoPathDrops);
        disco.Counters.AddDropsTo(drops);
    }

    public ValueTask DisposeAsync() => Inner.DisposeAsync();

    /// <summary>
    /// Where one WireGuard datagram to path peer <paramref name="id"/> goes: the trusted direct address; else the relay
    /// once our leg is bound; else (relay not bound yet, or lost) the configured endpoint, as a plain static peer would.
    /// Discovery pings go out from <see cref="DiscoPathCore.ChooseSend"/> while the direct path is not trusted.
    /// </summary>
    private bool TryChoose(uint id, out UnderlayAddress target)
    {
        if (!_routes.TryGetValue(id, out var route))
        {
            NoPathDrops++;
            target = default;
            return false;
        }

        var choice = _disco!.ChooseSend(id, _now(), this);
        if (choice.Trusted)
        {
            target = choice.Direct;
        }
        else
        {
            target = Inner.Relay.IsBound(route.Relay) ? route.Relay : route.Direct;
        }

        if (choice.Trusted != route.OnDirect)
        {
            NoteSwitch(route, choice.Trusted, target);
        }

        return true;
    }

    /// <summary>A path peer's traffic changed between direct and relay (rare: logged).</summary>
    private void NoteSwitch(StaticPathRoute route, bool toDirect, in UnderlayAddress target)
    {
        route.OnDirect = toDirect;
        if (toDirect)
        {
            SwitchesToDirect++;
            LogDirectPath(_logger, Convert.ToBase64String(route.Peer.PublicKey), target.ToString());
        }
        else
        {
            SwitchesToRelay++;
            LogRelayPath(_logger, Convert.ToBase64String(route.Peer.PublicKey), route.Relay.ToString());
        }
    }

    [LoggerMessage(EventId = 1900, Level = LogLevel.Information, Message = "Peer {Peer}: direct path {Address} confirmed by a pong; traffic leaves the relay")]
    private static partial void LogDirectPath(ILogger logger, string peer, string address);

    [LoggerMessage(EventId = 1901, Level = LogLevel.Information, Message = "Peer {Peer}: no pong within the trust window; traffic goes through the relay {Relay}")]
    private static partial void LogRelayPath(ILogger logger, string peer, string relay);

    /// <summary>What the layer keeps per path peer: its WireGuard peer, configured endpoint, relay path and current side.</summary>
    private sealed class StaticPathRoute(WireGuardPeer peer, UnderlayAddress direct, UnderlayAddress relay)
    {
        public WireGuardPeer Peer { get; } = peer;

        public UnderlayAddress Direct { get; } = direct;

        public UnderlayAddress Relay { get; } = relay;

        public bool OnDirect { get; set; }
    }
}
