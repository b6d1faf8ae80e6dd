using System.Net;
using BenchmarkDotNet.Attributes;
using TsNet.Registry;

namespace TsNet.Benchmarks.Registry;

/// <summary>
/// The peer registry at netmap scale: publishing a snapshot after one change (a full rebuild of the indexes), and
/// the lock-free reads the dialer, SOCKS5 and WhoIs make. Each peer has a /32, a /128 and a /24 route.
/// Run: dotnet run -c Release --project tests/TsNet.Benchmarks -- --filter *PeerRegistry* --job short
/// </summary>
[MemoryDiagnoser]
public class PeerRegistryBenchmarks
{
    private readonly IPAddress _hostAddress = IPAddress.Parse("100.64.10.20");
    private readonly IPAddress _routedAddress = IPAddress.Parse("10.10.20.7");
    private PeerRegistry _registry = new();
    private RegistryPeer _changed = null!;

    /// <summary>Peers in the registry.</summary>
    [Params(100, 10_000)]
    public int Peers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var peers = new RegistryPeer[Peers];
        for (var i = 0; i < Peers; i++)
        {
            var peer = new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = "peer" + i };
            peer.AllowedIps.Add(new IPNetwork(new IPAddress([100, 64, (byte)(i >> 8), (byte)i]), 32));
            peer.AllowedIps.Add(new IPNetwork(IPAddress.Parse($"fd7a:115c:a1e0::{i:x}"), 128));
            peer.AllowedIps.Add(new IPNetwork(new IPAddress([10, (byte)(i >> 8), (byte)i, 0]), 24));
            peers[i] = RegistryPeer.FromStatic(peer, "tailnet.example");
        }

        _registry = new PeerRegistry();
        _registry.ReplaceAll(peers);
        _changed = peers[Peers / 2];
    }

    /// <summary>One peer updated: a new snapshot with every index rebuilt, published atomically.</summary>
    [Benchmark]
    public int UpdateOnePeer() => _registry.AddOrUpdate(_changed).Count;

    [Benchmark]
    public bool FindByHostAddress() => _registry.Current.FindByAddress(_hostAddress) is not null;

    [Benchmark]
    public bool FindByRoutedAddress() => _registry.Current.FindByAddress(_routedAddress) is not null;

    [Benchmark]
    public bool FindByDnsName() => _registry.Current.FindByName("peer42.tailnet.example") is not null;
}
