using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Control.Protocol;
using TsNet.Dataplane;
using TsNet.Derp;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Paths;

/// <summary>
/// Control mode's path layer (what Tailscale calls magicsock), an <see cref="IUnderlay"/> over the UDP underlay: the
/// WireGuard core sends to each peer's virtual <see cref="UnderlayAddress.PeerPath(uint)"/> address and this layer
/// sends the datagram over the peer's confirmed direct UDP path, through DERP, or both while a direct path is being
/// confirmed (<see cref="DiscoPathCore.ChooseSend"/>). Received STUN responses go to <see cref="NetcheckCore"/>, disco
/// to <see cref="DiscoPathCore"/>, WireGuard from a known path arrives from the peer's virtual address — so
/// WireGuard sessions never notice a path change. DERP packets arrive in the same inbound queue, prefixed with the
/// sender's node key by the <see cref="DerpClientSet"/>. Loop task only, like every underlay.
/// </summary>
internal sealed partial class MagicUnderlay : IUnderlay, IPathOutput
{
    /// <summary>At most this many netmap endpoints get a datagram for a peer with no path at all (no DERP, nothing confirmed).</summary>
    private const int MaxSprayEndpoints = 4;

    /// <summary>Pongs closer together than this (heartbeats every 3 s) continue a trusted path rather than confirm a new one.</summary>
    private static readonly long TrustLapse = TimeSpan.FromSeconds(7).Ticks;

    /// <summary>At most one handshake nudge per peer this often from its inbound disco pings.</summary>
    private static readonly long PingNudgeInterval = TimeSpan.FromSeconds(1).Ticks;

    private readonly Dictionary<uint, PeerRoute> _routes = [];
    private readonly List<Task> _retiredDerp = [];
    private DERPMap? _derpMap;
    private readonly Func<long> _now;
    private readonly ILogger _logger;
    private int _netcheckVersion = -1;
    private int _homeRegion;
    // Sorted region ids of the current DERP map; an array so the per-datagram check is a span search, not LINQ.
    private int[] _regionIds = [];
    private IReadOnlyDictionary<int, string> _regionCodes = new Dictionary<int, string>();

    // A re-STUN was asked for with nothing to STUN: the endpoints are as fresh as they get, at the next Poll.
    private bool _refreshWithoutStun;

    public MagicUnderlay(IUnderlay inner, DerpClientSet derp, DiscoPathCore disco, NetcheckCore netcheck, Func<long> now, ILogger logger)
    {
        Inner = inner;
        Derp = derp;
        Disco = disco;
        Netcheck = netcheck;
        _now = now;
        _logger = logger;

        // CallMeMaybe freshness (disco-direct.md §3.4): stale endpoints ask for a re-STUN; its end releases the
        // held-back CallMeMaybes. Both run on the loop task, inside this layer's Send/Receive/Poll.
        disco.EndpointRefreshNeeded += RequestEndpointRefresh;
        netcheck.ReportFinished += at => Disco.NoteEndpointsRefreshed(at, this);
    }

    /// <summary>The UDP underlay underneath (replaced on a rebind; the path state stays).</summary>
    public IUnderlay Inner { get; set; }

    /// <summary>The DERP connections (replaced when the node key changes: DERP servers know nodes by key).</summary>
    public DerpClientSet Derp { get; private set; }

    public DiscoPathCore Disco { get; }

    public NetcheckCore Netcheck { get; }

    /// <summary>The node's home DERP region (0 = none yet).</summary>
    public int HomeRegion => _homeRegion;

    /// <summary>Raised on the loop task when the home region changes (the node tells the coordination server).</summary>
    public event Action<int>? HomeRegionChanged;

    /// <summary>
    /// Raised on the loop task when a peer's direct path became trusted (a pong after none was), or a peer's new disco
    /// ping showed it can now reach us directly (at most once a second per peer): WireGuard may handshake at once
    /// instead of waiting out a retry of a message that went down a path that failed or was not accepted yet.
    /// </summary>
    public event Action<WireGuardPeer>? DirectPathConfirmed;

    /// <summary>Raised on the loop task when STUN learned different public endpoints (the node sends a lite update).</summary>
    public event Action<IReadOnlyList<IPEndPoint>>? PublicEndpointsChanged;

    /// <summary>Datagrams from DERP whose sender is no peer of ours, or from a peer with no path entry: dropped.</summary>
    public long UnknownDerpSenders { get; private set; }

    /// <summary>Datagrams for a peer with no path at all (no DERP region, no endpoint): dropped.</summary>
    public long NoPathDrops { get; private set; }

    public int Port => Inner.Port;

    public long InboundDrops => Inner.InboundDrops + Derp.InboundDrops;

    public long SendDrops => Inner.SendDrops + Derp.SendDrops;

    public IEnumerable<Task> Tasks => Inner.Tasks.Concat(Derp.Tasks).Concat(_retiredDerp);

    public long NextDeadline => _refreshWithoutStun
        ? Timestamps.Never
        : Math.Min(Inner.NextDeadline, Math.Min(Disco.NextDeadline, Netcheck.NextDeadline));

    public void Start() => Inner.Start();

    /// <summary>Adds or updates a peer's path state; returns its virtual address (WireGuard's fixed endpoint for it).</summary>
    public UnderlayAddress SetPeer(WireGuardPeer peer, DiscoKey discoKey, int homeDerpRegion, IReadOnlyList<IPEndPoint> endpoints, long now)
    {
        var nodeKey = peer.PublicKey;
        var id = Disco.SetPeer(nodeKey, discoKey, homeDerpRegion, endpoints, now);
        var spray = new UnderlayAddress[Math.Min(endpoints.Count, MaxSprayEndpoints)];
        for (var i = 0; i < spray.Length; i++)
        {
            spray[i] = UnderlayAddress.FromIPEndPoint(endpoints[i]);
        }

        _routes[id] = new PeerRoute(peer, nodeKey.ToArray(), spray);
        return UnderlayAddress.PeerPath(id);
    }

    /// <summary>Forgets a peer's path state.</summary>
    public void RemovePeer(ReadOnlySpan<byte> nodeKey)
    {
        var id = Disco.PeerForNodeKey(nodeKey);
        if (id != 0)
        {
            _routes.Remove(id);
        }

        Disco.RemovePeer(nodeKey);
    }

    /// <summary>
    /// A new DERP map (null = none) with its STUN targets resolved by the caller: DERP connections follow it and
    /// netcheck measures it. Until netcheck picks a home, the lowest region that may be home is the home.
    /// </summary>
    public void SetDerpMap(DERPMap? map, IReadOnlyList<StunTarget> stunTargets, long now)
    {
        _derpMap = map;
        Derp.SetDerpMap(map);
        Netcheck.SetTargets(stunTargets, now);
        var ids = new List<int>();
        var codes = new Dictionary<int, string>();
        foreach (var (id, region) in map?.Regions ?? new Dictionary<int, DERPRegion?>())
        {
            if (region is not null)
            {
                ids.Add(id);
                codes[id] = string.IsNullOrEmpty(region.RegionCode) ? id.ToString(System.Globalization.CultureInfo.InvariantCulture) : region.RegionCode;
            }
        }

        ids.Sort();
        _regionIds = [.. ids];
        _regionCodes = codes;
        UpdateHome(now);
    }

    /// <summary>
    /// The node key changed: pings name the new key, and DERP reconnects under it (<paramref name="replacement"/>, made
    /// with the new key, takes over the map and home region; the old connections close in the background).
    /// </summary>
    public void ChangeNodeKey(ReadOnlySpan<byte> nodePublicKey, DerpClientSet replacement)
    {
        Disco.SetNodePublicKey(nodePublicKey);
        var old = Derp;
        replacement.SetDerpMap(_derpMap);
        if (_homeRegion != 0)
        {
            replacement.SetHomeRegion(_homeRegion);
        }

        Derp = replacement;
        _retiredDerp.RemoveAll(task => task.IsCompleted);
        _retiredDerp.Add(old.DisposeAsync().AsTask());
    }

    /// <summary>A region's code for status lines (<c>derp test</c>); the ID as text when the map has no code.</summary>
    public string RegionCode(int regionId) =>
        _regionCodes.TryGetValue(regionId, out var code) ? code : regionId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The endpoints CallMeMaybe announces (local interfaces and STUN results, as sent to control).</summary>
    public void SetLocalEndpoints(IReadOnlyList<IPEndPoint> endpoints, long now) => Disco.SetLocalEndpoints(endpoints, now);

    /// <summary>The path a peer's traffic takes now, for status.</summary>
    public PeerPathStatus PathOf(UnderlayAddress endpoint, long now) =>
        endpoint.IsPeerPath ? Disco.GetPathStatus(endpoint.PeerPathId, now) : default;

    public void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        if (!destination.IsPeerPath)
        {
            Inner.Send(destination, datagram);
            return;
        }

        SendToPeer(destination.PeerPathId, datagram, null);
    }

    public void Send(in UnderlayAddress destination, PacketBuffer datagram)
    {
        if (destination.IsPeerPath)
        {
            SendToPeer(destination.PeerPathId, datagram.Span, datagram);
        }
        else
        {
            Inner.Send(destination, datagram);
        }
    }

    /// <summary>One WireGuard datagram to a peer: over its direct path, through DERP, or both (see the class remarks).</summary>
    private void SendToPeer(uint id, ReadOnlySpan<byte> datagram, PacketBuffer? buffer)
    {
        if (!_routes.TryGetValue(id, out var route))
        {
            NoPathDrops++;
            return;
        }

        var choice = Disco.ChooseSend(id, _now(), this);
        var sent = false;
        if (choice.Direct.IsSet)
        {
            if (buffer is not null)
            {
                Inner.Send(choice.Direct, buffer);
            }
            else
            {
                Inner.Send(choice.Direct, datagram);
            }

            sent = true;
        }

        if (choice.DerpRegion != 0 && HasRegion(choice.DerpRegion))
        {
            Derp.TrySend(choice.DerpRegion, route.NodeKey, datagram);
            sent = true;
        }

        if (!sent)
        {
            // No DERP and nothing confirmed yet (a tailnet without DERP): try the netmap's endpoints, as WireGuard
            // would with a static endpoint; disco confirms one of them meanwhile.
            foreach (var endpoint in route.Spray)
            {
                Inner.Send(endpoint, datagram);
            }

            if (route.Spray.Length == 0)
            {
                NoPathDrops++;
            }
        }
    }

    public void Flush() => Inner.Flush();

    public UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now)
    {
        if (datagram.Source.IsDerp)
        {
            return ReceiveFromDerp(ref datagram, now);
        }

        var result = Inner.Receive(ref datagram, now);
        if (result == UnderlayReceiveResult.Consumed)
        {
            return result;
        }

        var span = datagram.Buffer.Span;
        if (span.Length >= 2 && span[0] == 0x01 && StunMessage.IsBindingMessage(span))
        {
            // A binding *response* (0x0101); requests to us are not expected and are dropped as well.
            Netcheck.ReceiveStun(span, datagram.Source, now);
            datagram.Buffer.Return();
            CheckNetcheck(now);
            return UnderlayReceiveResult.Consumed;
        }

        if (DiscoPacket.LooksLikeDisco(span))
        {
            var pongs = Disco.Counters.PongsReceived;
            var answered = Disco.Counters.PongsSent;
            Disco.ReceiveUdpDisco(span, datagram.Source, now, this);
            var source = datagram.Source;
            datagram.Buffer.Return();
            if (Disco.Counters.PongsReceived != pongs)
            {
                NoteDirectPath(source, now);
            }
            else if (Disco.Counters.PongsSent != answered)
            {
                NotePingedFrom(source, now);
            }

            return UnderlayReceiveResult.Consumed;
        }

        var id = Disco.PeerForUdpSource(datagram.Source);
        if (id != 0)
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

        if (Disco.NextDeadline <= now)
        {
            Disco.Poll(now, this);
        }

        if (Netcheck.NextDeadline <= now)
        {
            Netcheck.Poll(now, this);
        }

        if (_refreshWithoutStun)
        {
            _refreshWithoutStun = false;
            Disco.NoteEndpointsRefreshed(now, this);
        }

        CheckNetcheck(now);
    }

    /// <summary>A CallMeMaybe waits for fresh endpoints: netcheck reports at once (or, with nothing to STUN, the next Poll releases it).</summary>
    private void RequestEndpointRefresh(long now)
    {
        if (!Netcheck.RequestReport(now))
        {
            _refreshWithoutStun = true;
        }
    }

    void IPathOutput.SendUdp(in UnderlayAddress destination, ReadOnlySpan<byte> datagram) => Inner.Send(destination, datagram);

    void IPathOutput.SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram) => Derp.TrySend(regionId, nodeKey, datagram);

    /// <summary>Path drop counters for the status snapshot (loop task only).</summary>
    public void AddCounters(IDictionary<string, long> drops)
    {
        DropCounters.AddIfNonZero(drops, "paths.UnknownDerpSender", UnknownDerpSenders);
        DropCounters.AddIfNonZero(drops, "paths.NoPath", NoPathDrops);
        DropCounters.AddIfNonZero(drops, "derp.SendDrops", Derp.SendDrops);
        DropCounters.AddIfNonZero(drops, "derp.InboundDrops", Derp.InboundDrops);
        Disco.Counters.AddDropsTo(drops);
    }

    public async ValueTask DisposeAsync()
    {
        await Derp.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_retiredDerp).ConfigureAwait(false);
        await Inner.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>After a pong over UDP: raises <see cref="DirectPathConfirmed"/> when the peer's direct path just became trusted.</summary>
    private void NoteDirectPath(in UnderlayAddress source, long now)
    {
        var id = Disco.PeerForUdpSource(source);
        if (id == 0 || !_routes.TryGetValue(id, out var route))
        {
            return;
        }

        var trusted = Disco.IsDirectTrusted(id, now);
        var confirmed = trusted && (route.TrustedUntilAtLeast < now);
        if (trusted)
        {
            // Heartbeat pongs keep extending trust; only a pong after a lapse (or the first) is news for WireGuard.
            route.TrustedUntilAtLeast = now + TrustLapse;
        }

        if (confirmed)
        {
            DirectPathConfirmed?.Invoke(route.Peer);
        }
    }

    /// <summary>
    /// After a new disco ping over UDP was answered: the peer knows this address now, and a Tailscale peer accepts
    /// WireGuard from an address only once its disco knows it — an initiation sprayed there before was dropped. The
    /// pong went first; a handshake nudged now follows it instead of waiting out REKEY_TIMEOUT. At most one nudge per
    /// peer per <see cref="PingNudgeInterval"/> (pings come every few seconds per address; a session ends the nudges).
    /// </summary>
    private void NotePingedFrom(in UnderlayAddress source, long now)
    {
        var id = Disco.PeerForUdpSource(source);
        if (id == 0 || !_routes.TryGetValue(id, out var route) || now < route.NextPingNudge)
        {
            return;
        }

        route.NextPingNudge = now + PingNudgeInterval;
        DirectPathConfirmed?.Invoke(route.Peer);
    }

    /// <summary>A DERP datagram: <c>source node key(32) ‖ packet</c>, from region <c>Source.Port</c>.</summary>
    private UnderlayReceiveResult ReceiveFromDerp(ref UnderlayDatagram datagram, long now)
    {
        var region = datagram.Source.Port;
        var buffer = datagram.Buffer;
        if (buffer.Length < DiscoPacket.KeyLength)
        {
            buffer.Return();
            UnknownDerpSenders++;
            return UnderlayReceiveResult.Consumed;
        }

        var span = buffer.Span;
        var sourceKey = span[..DiscoPacket.KeyLength];
        var packet = span[DiscoPacket.KeyLength..];
        if (DiscoPacket.LooksLikeDisco(packet))
        {
            Disco.ReceiveDerpDisco(packet, region, sourceKey, now, this);
            buffer.Return();
            return UnderlayReceiveResult.Consumed;
        }

        var id = Disco.PeerForNodeKey(sourceKey);
        if (id == 0)
        {
            UnknownDerpSenders++;
            buffer.Return();
            return UnderlayReceiveResult.Consumed;
        }

        Disco.NoteDerpArrival(id, region, now);
        buffer.TrimFront(DiscoPacket.KeyLength);
        datagram = new UnderlayDatagram(buffer, UnderlayAddress.PeerPath(id));
        return UnderlayReceiveResult.Unwrapped;
    }

    /// <summary>After netcheck worked: a new home region goes to DERP and the node; new public endpoints to the node.</summary>
    private void CheckNetcheck(long now)
    {
        var version = Netcheck.Version;
        if (version == _netcheckVersion)
        {
            return;
        }

        _netcheckVersion = version;
        UpdateHome(now);
        PublicEndpointsChanged?.Invoke(Netcheck.PublicEndpoints);
    }

    private void UpdateHome(long now)
    {
        _ = now;
        var home = Netcheck.HomeRegion;
        if (home == 0 || !HasRegion(home))
        {
            // Before the first report (or with no STUN at all): the lowest region, so peers can reach us at once.
            home = _homeRegion != 0 && HasRegion(_homeRegion) ? _homeRegion : _regionIds.Length > 0 ? _regionIds[0] : 0;
        }

        if (home == _homeRegion)
        {
            return;
        }

        _homeRegion = home;
        Derp.SetHomeRegion(home);
        LogHomeRegion(_logger, home, home == 0 ? "none" : RegionCode(home));
        HomeRegionChanged?.Invoke(home);
    }

    private bool HasRegion(int regionId) => _regionIds.AsSpan().Contains(regionId);

    [LoggerMessage(EventId = 1640, Level = LogLevel.Information, Message = "Home DERP region is now {RegionId} ({RegionCode})")]
    private static partial void LogHomeRegion(ILogger logger, int regionId, string regionCode);

    /// <summary>
    /// What the layer keeps per peer: its WireGuard peer, node key (DERP destination), the endpoints it sprays to
    /// without any path, and until when the last pong made its direct path news no more.
    /// </summary>
    private sealed class PeerRoute(WireGuardPeer peer, byte[] nodeKey, UnderlayAddress[] spray)
    {
        public WireGuardPeer Peer { get; } = peer;

        public byte[] NodeKey { get; } = nodeKey;

        public UnderlayAddress[] Spray { get; } = spray;

        public long TrustedUntilAtLeast { get; set; } = Timestamps.Never;

        public long NextPingNudge { get; set; } = Timestamps.Never;
    }
}
