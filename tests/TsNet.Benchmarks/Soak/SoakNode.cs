using System.Net;

namespace TsNet.Benchmarks.Soak;

/// <summary>One node of the soak mesh: its server, its overlay address and the lossy layers over its UDP underlay.</summary>
internal sealed class SoakNode
{
    private readonly List<LossyUnderlay> _layers = [];

    public SoakNode(int index, LinkImpairment impairment, int seed)
    {
        Index = index;
        Address = IPAddress.Parse("100.64.0." + (index + 1));
        var options = new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { new IPNetwork(Address, 32) } };
        options.TestHooks.WrapUdpUnderlay = inner =>
        {
            var layer = new LossyUnderlay(inner, impairment, seed + (1000 * index) + _layers.Count);
            lock (_layers)
            {
                _layers.Add(layer);
            }

            return layer;
        };
        Server = new TailnetServer(options);
    }

    /// <summary>Position in the mesh (0-based); the address is 100.64.0.(index + 1).</summary>
    public int Index { get; }

    /// <summary>The node's overlay address.</summary>
    public IPAddress Address { get; }

    /// <summary>The node.</summary>
    public TailnetServer Server { get; }

    /// <summary>Name for log lines.</summary>
    public string Name => ((char)('A' + Index)).ToString();

    /// <summary>Datagrams the node's lossy layers dropped.</summary>
    public long Dropped => Sum(layer => layer.Dropped);

    /// <summary>Datagrams the node's lossy layers held back.</summary>
    public long Reordered => Sum(layer => layer.Reordered);

    /// <summary>Datagrams the node's lossy layers passed at once.</summary>
    public long Passed => Sum(layer => layer.Passed);

    /// <summary>This node as a static peer of the others (reached over loopback UDP).</summary>
    public TailnetPeer AsPeer() => new()
    {
        PublicKey = Server.PublicKey,
        Endpoint = "127.0.0.1:" + Server.ListenPort,
        AllowedIps = { new IPNetwork(Address, 32) },
    };

    private long Sum(Func<LossyUnderlay, long> counter)
    {
        lock (_layers)
        {
            return _layers.Sum(counter);
        }
    }
}
