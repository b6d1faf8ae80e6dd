using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Control.Protocol;
using TsNet.Dataplane;
using TsNet.Derp;
using TsNet.Paths;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Control mode's paths: the path layer (MagicUnderlay: disco, DERP, STUN) made when the dataplane binds, the DERP map
// it follows, the home region and the STUN endpoints it reports back to the coordination server.
public sealed partial class TailnetServer
{
    /// <summary>STUN port of a DERP node that names none (protocol: 0 means the default).</summary>
    private const int DefaultStunPort = 3478;

    private int _homeDerpRegion;
    private IReadOnlyList<IPEndPoint> _stunEndpoints = [];
    private DERPMap? _pathsDerpMap;

    /// <summary>The home DERP region the path layer chose (0 = none).</summary>
    internal int HomeDerpRegion => Volatile.Read(ref _homeDerpRegion);

    /// <summary>
    /// The dataplane's <see cref="DataplaneLoop.WrapUnderlay"/> in control mode: the path layer over the bound UDP
    /// transport, owning a DERP client set that delivers into the same inbound queue.
    /// </summary>
    private Func<IUnderlay, ChannelWriter<UnderlayDatagram>, IUnderlay>? CreatePathLayerFactory(Func<long> now)
    {
        if (_options.ControlUrl is null || _controlState is null)
        {
            return null;
        }

        return (inner, inbound) =>
        {
            var logger = _options.LoggerFactory.CreateLogger("TsNet.Paths");
            var nodeKey = _privateKey;
            var derp = CreateDerpClientSet(nodeKey, inbound);
            var disco = new DiscoPathCore(_options.DiscoKey.Bytes, nodeKey.PublicKey.Bytes);
            var netcheck = new NetcheckCore();
            netcheck.ReportFinished += _ =>
            {
                CurrentControlSession()?.UpdateDerpLatencies(netcheck.RegionLatencies);
                ProbeHttpsLatencies(netcheck.RegionsWithoutStun);
            };
            var layer = new MagicUnderlay(inner, derp, disco, netcheck, now, logger);
            layer.HomeRegionChanged += region =>
            {
                // The latencies that chose the home go with it (HTTPS-measured regions arrive after the report).
                CurrentControlSession()?.UpdateDerpLatencies(netcheck.RegionLatencies);
                OnHomeRegionChanged(region);
            };
            layer.PublicEndpointsChanged += endpoints => OnStunEndpointsChanged(layer, endpoints);
            return layer;
        };
    }

    /// <summary>
    /// Tests: netcheck's last per-region latencies (STUN, else HTTPS) and the DERP client set's region connections,
    /// read on the loop; empty when the node has no path layer.
    /// </summary>
    internal async Task<(IReadOnlyDictionary<int, TimeSpan> Latencies, IReadOnlyList<DerpRegionStatus> Derp)> GetPathsDiagnosticsAsync(
        CancellationToken cancellationToken)
    {
        DataplaneLoop? dataplane;
        lock (_gate)
        {
            dataplane = _dataplane;
        }

        if (dataplane is null)
        {
            return (new Dictionary<int, TimeSpan>(), []);
        }

        return await OnDataplaneAsync(dataplane, (loop, _) => loop.Paths is { } paths
            ? ((IReadOnlyDictionary<int, TimeSpan>)new Dictionary<int, TimeSpan>(paths.Netcheck.RegionLatencies), paths.Derp.GetStatus())
            : (new Dictionary<int, TimeSpan>(), []), cancellationToken).ConfigureAwait(false);
    }

    private DerpClientSet CreateDerpClientSet(WireGuardKey nodeKey, ChannelWriter<UnderlayDatagram> inbound)
    {
        var derp = new DerpClientSet(new DerpClientSetOptions
        {
            NodePrivateKey = nodeKey.Bytes.ToArray(),
            Pool = _pool,
            Inbound = inbound,
            TimeProvider = _options.TimeProvider,
            Logger = _options.LoggerFactory.CreateLogger("TsNet.Derp"),
        });
        Metrics.ObserveDerpConnections(() => CountConnected(derp));
        return derp;
    }

    /// <summary>Loop task: the path layer follows a new node key (new DERP identity, pings naming the new key).</summary>
    private void ChangePathNodeKey(DataplaneLoop loop, WireGuardKey nodeKey)
    {
        if (loop.Paths is { } paths)
        {
            paths.ChangeNodeKey(nodeKey.PublicKey.Bytes, CreateDerpClientSet(nodeKey, loop.InboundWriter));
        }
    }

    /// <summary>DERP servers the node is connected to now (the meter's <c>tsnet.derp.connections</c>); any thread.</summary>
    private static int CountConnected(DerpClientSet derp)
    {
        var connected = 0;
        foreach (var region in derp.GetStatus())
        {
            if (region.Connected)
            {
                connected++;
            }
        }

        return connected;
    }

    /// <summary>Loop task: the home region moved; the coordination server tells peers where to reach us.</summary>
    private void OnHomeRegionChanged(int regionId)
    {
        Volatile.Write(ref _homeDerpRegion, regionId);
        CurrentControlSession()?.UpdateHomeDerp(regionId);
    }

    /// <summary>Loop task: STUN saw new public endpoints; they go first in what control and CallMeMaybe announce.</summary>
    private void OnStunEndpointsChanged(MagicUnderlay layer, IReadOnlyList<IPEndPoint> endpoints)
    {
        Volatile.Write(ref _stunEndpoints, [.. endpoints]);
        var all = AnnouncedEndpoints(Volatile.Read(ref _localEndpoints));
        layer.SetLocalEndpoints(all, _dataplane?.Now ?? 0);
        CurrentControlSession()?.UpdateEndpoints(all);
    }

    /// <summary>STUN endpoints first (what peers behind other networks need), then the local ones, without duplicates.</summary>
    private IReadOnlyList<IPEndPoint> AnnouncedEndpoints(IReadOnlyList<IPEndPoint> local)
    {
        var stun = Volatile.Read(ref _stunEndpoints);
        if (stun.Count == 0)
        {
            return local;
        }

        var all = new List<IPEndPoint>(stun.Count + local.Count);
        foreach (var endpoint in stun.Concat(local))
        {
            if (!all.Contains(endpoint) && all.Count < MaxLocalEndpoints)
            {
                all.Add(endpoint);
            }
        }

        return all;
    }

    private Control.Session.IControlSession? CurrentControlSession()
    {
        lock (_gate)
        {
            return _controlSession;
        }
    }

    /// <summary>
    /// A new DERP map from the netmap: its STUN targets are resolved here (off the loop), then the path layer takes
    /// both on the loop (DERP connections follow the map, netcheck measures it).
    /// </summary>
    private async Task ApplyDerpMapAsync(DataplaneLoop dataplane, DERPMap? map, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _pathsDerpMap, map);
        var targets = await StunTargetsAsync(map, cancellationToken).ConfigureAwait(false);
        await OnDataplaneAsync(dataplane, (loop, now) =>
        {
            loop.Paths?.SetDerpMap(map, targets, now);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every region's STUN servers as addresses (IPv4 literal, STUNTestIP, or the resolved host name).</summary>
    private async Task<IReadOnlyList<StunTarget>> StunTargetsAsync(DERPMap? map, CancellationToken cancellationToken)
    {
        var targets = new List<StunTarget>();
        if (map?.Regions is not { } regions)
        {
            return targets;
        }

        foreach (var (id, region) in regions)
        {
            if (region?.Nodes is not { } nodes || region.NoMeasureNoHome)
            {
                continue;
            }

            var multiplier = map.HomeParams?.RegionScore is { } scores && scores.TryGetValue(id, out var score) && score > 0 ? score : 1.0;
            var regionTargets = targets.Count;
            foreach (var node in nodes)
            {
                if (node.STUNPort < 0)
                {
                    continue;
                }

                var port = node.STUNPort == 0 ? DefaultStunPort : node.STUNPort;
                var address = await StunAddressAsync(node, cancellationToken).ConfigureAwait(false);
                if (address is not null)
                {
                    targets.Add(new StunTarget(id, UnderlayAddress.FromIPEndPoint(new IPEndPoint(address, port)), multiplier, !region.Avoid));
                }
            }

            if (targets.Count == regionTargets && nodes.Count > 0)
            {
                // No STUN server: netcheck still knows the region, and measures it over HTTPS only.
                targets.Add(new StunTarget(id, default, multiplier, !region.Avoid));
            }
        }

        return targets;
    }

    private async Task<IPAddress?> StunAddressAsync(DERPNode node, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(node.STUNTestIP, out var test))
        {
            return test;
        }

        if (IPAddress.TryParse(node.IPv4, out var ipv4))
        {
            return ipv4;
        }

        if (string.Equals(node.IPv4, "none", StringComparison.OrdinalIgnoreCase) || string.IsNullOrEmpty(node.HostName))
        {
            return null;
        }

        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(TimeSpan.FromSeconds(5));
            var addresses = await Dns.GetHostAddressesAsync(node.HostName, AddressFamily.InterNetwork, bound.Token).ConfigureAwait(false);
            return addresses.Length > 0 ? addresses[0] : null;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogStunHostUnresolved(_logger, node.HostName, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// Loop task, after a netcheck report: each region without a STUN answer gets one HTTPS latency probe
    /// (derp.md §6.4) to its first DERP node, off the loop; the result goes back to netcheck on the loop.
    /// </summary>
    private void ProbeHttpsLatencies(IReadOnlyList<int> regions)
    {
        if (regions.Count == 0 || Volatile.Read(ref _pathsDerpMap)?.Regions is not { } map)
        {
            return;
        }

        DataplaneLoop? dataplane;
        lock (_gate)
        {
            dataplane = _dataplane;
        }

        if (dataplane is null)
        {
            return;
        }

        foreach (var regionId in regions)
        {
            if (map.TryGetValue(regionId, out var region) && region?.Nodes?.FirstOrDefault(n => !n.STUNOnly) is { } node)
            {
                _ = Task.Run(() => ProbeHttpsLatencyAsync(dataplane, regionId, node));
            }
        }
    }

    private async Task ProbeHttpsLatencyAsync(DataplaneLoop dataplane, int regionId, DERPNode node)
    {
        try
        {
            var latency = await DerpHttpsLatencyProbe.MeasureAsync(node, _options.TimeProvider, _disposing.Token).ConfigureAwait(false);
            if (latency is { } measured)
            {
                await dataplane.InvokeAsync((loop, now) => loop.Paths?.Netcheck.ReportHttpsLatency(regionId, measured, now), _disposing.Token)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or ChannelClosedException)
        {
            // The server or its dataplane is going away: the measurement no longer matters.
        }
    }

    /// <summary>
    /// Loop task, control mode: a netmap peer with a disco key gets the path machinery — WireGuard's endpoint is its
    /// fixed virtual path address. Returns false for peers without one (WireGuard-only peers keep plain endpoints).
    /// </summary>
    private static bool ApplyPeerPath(DataplaneLoop loop, WireGuardPeer peer, PeerSettings settings, long now)
    {
        if (loop.Paths is not { } paths || settings.Entry is not { Source: Registry.PeerSource.Netmap, DiscoKey: var disco } entry || disco.IsEmpty)
        {
            return false;
        }

        var endpoints = new List<IPEndPoint>(entry.Endpoints.Count);
        foreach (var text in entry.Endpoints)
        {
            if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0)
            {
                endpoints.Add(endpoint);
            }
        }

        var address = paths.SetPeer(peer, disco, entry.HomeDerpRegion, endpoints, now);
        peer.FixedEndpoint = true;
        loop.Core.ConfigureEndpoint(peer, address);
        return true;
    }

    /// <summary>
    /// Loop task, static mode: a peer with both an endpoint and a relay path gets path selection — WireGuard's endpoint
    /// is its fixed virtual path address, disco pings confirm the direct address (the relay path names the peer's
    /// disco key). Returns false for every other peer (relay only, endpoint only: plain WireGuard endpoints).
    /// </summary>
    private static bool ApplyStaticPath(DataplaneLoop loop, WireGuardPeer peer, PeerSettings settings, long now)
    {
        if (loop.StaticPaths is not { } paths || settings.Relay is not { } relay || settings.RelayedPeerDirect is not { } direct)
        {
            return false;
        }

        var address = paths.SetPeer(peer, direct.ToIPEndPoint(), relay, now);
        peer.FixedEndpoint = true;
        loop.Core.ConfigureEndpoint(peer, address);
        return true;
    }

    /// <summary>Loop task: a peer's path as status text and its direct endpoint, when the path layer runs it.</summary>
    private static (string? Path, IPEndPoint? Endpoint) DescribePath(DataplaneLoop loop, UnderlayAddress endpoint, long now)
    {
        if (loop.StaticPaths is { } statics && endpoint.IsPeerPath)
        {
            var path = statics.PathOf(endpoint, now);
            if (path.Kind == global::TsNet.Paths.PathKind.Direct)
            {
                return ("direct " + path.Direct.ToIPEndPoint(), path.Direct.ToIPEndPoint());
            }

            var relay = statics.RelayOf(endpoint);
            return relay.IsSet ? ("relay " + relay.ToIPEndPoint(), relay.ToIPEndPoint()) : (null, null);
        }

        if (loop.Paths is not { } paths || !endpoint.IsPeerPath)
        {
            return (null, endpoint.IsSet ? endpoint.ToIPEndPoint() : null);
        }

        var status = paths.PathOf(endpoint, now);
        return status.Kind switch
        {
            global::TsNet.Paths.PathKind.Direct => ("direct " + status.Direct.ToIPEndPoint(), status.Direct.ToIPEndPoint()),
            global::TsNet.Paths.PathKind.Derp => ("derp " + paths.RegionCode(status.DerpRegion), null),
            _ => (null, null),
        };
    }

    [LoggerMessage(EventId = 1641, Level = LogLevel.Warning, Message = "DERP node {HostName} has no STUN address: {Reason}")]
    private static partial void LogStunHostUnresolved(ILogger logger, string hostName, string reason);
}
