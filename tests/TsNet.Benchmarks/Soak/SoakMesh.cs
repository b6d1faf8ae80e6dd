using System.Net;

namespace TsNet.Benchmarks.Soak;

/// <summary>Three nodes in this process, each a static WireGuard peer of the other two over loopback UDP.</summary>
internal sealed class SoakMesh : IAsyncDisposable
{
    private SoakMesh(IReadOnlyList<SoakNode> nodes) => Nodes = nodes;

    /// <summary>The nodes A, B, C.</summary>
    public IReadOnlyList<SoakNode> Nodes { get; }

    /// <summary>Starts the nodes, peers them all with each other and waits until every pair answers a ping.</summary>
    public static async Task<SoakMesh> StartAsync(LinkImpairment impairment, int seed, CancellationToken cancellationToken)
    {
        var nodes = Enumerable.Range(0, 3).Select(i => new SoakNode(i, impairment, seed)).ToList();
        var mesh = new SoakMesh(nodes);
        try
        {
            foreach (var node in nodes)
            {
                await node.Server.StartAsync(cancellationToken);
            }

            foreach (var node in nodes)
            {
                foreach (var other in nodes.Where(n => n != node))
                {
                    await node.Server.AddOrUpdatePeerAsync(other.AsPeer(), cancellationToken);
                }
            }

            foreach (var node in nodes)
            {
                foreach (var other in nodes.Where(n => n != node))
                {
                    await PingUntilAnsweredAsync(node.Server, other.Address, cancellationToken);
                }
            }

            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.Server.DisposeAsync();
        }
    }

    /// <summary>Pings until a reply comes (loss may eat the first ones), at most 20 tries.</summary>
    private static async Task PingUntilAnsweredAsync(TailnetServer from, IPAddress to, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await from.PingAsync(to, TimeSpan.FromSeconds(1), cancellationToken);
                return;
            }
            catch (TimeoutException) when (attempt < 20)
            {
            }
        }
    }
}
