using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Publishing;
using TsNet.Underlay;

namespace TsNet.Tests.Facade;

/// <summary>
/// Moving a node's underlay mid-session (roaming): the new port is bound, the old one released, and the peer follows
/// the authenticated packets to the new endpoint. Over real UDP sockets (it tests that path) and on the in-memory hub.
/// </summary>
public sealed class UnderlayRebindTests
{
    [Fact]
    public async Task UdpRebind_ReleasesTheOldPort_AndThePeerFollows()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var pair = await NodePair.StartAsync(cts.Token);
        var old = pair.A.ListenPort;
        var moved = await pair.A.RebindUnderlayAsync(0, cts.Token);

        moved.Should().NotBe(old);
        pair.A.ListenPort.Should().Be(moved);
        NodePair.HostPortIsFree(SocketType.Dgram, old).Should().BeTrue("the old sockets are closed");
        NodePair.HostPortIsFree(SocketType.Dgram, moved).Should().BeFalse();
        await pair.A.PingAsync(NodePair.AddressB, TimeSpan.FromSeconds(5), cts.Token);
        (await PeerEndpointPortAsync(pair.B, moved, cts.Token)).Should().Be(moved, "B answers where A's packets now come from");
    }

    [Fact]
    public async Task InMemoryRebind_MovesTheHubPort_AndThePeerFollows()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, hub: hub);
        await using (a)
        await using (b)
        {
            var old = a.ListenPort;
            var moved = await a.RebindUnderlayAsync(0, cts.Token);
            hub.Ports.Should().Contain(moved).And.NotContain(old);
            await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(5), cts.Token);
            (await PeerEndpointPortAsync(b, moved, cts.Token)).Should().Be(moved);
        }
    }

    // Session figures in a status come from the dataplane loop, which gets 1 s to answer; on a loaded machine the
    // last answer (here: none yet) stands instead. So read until the expected port shows, bounded by the token, and
    // hand back what was seen last.
    private static async Task<int?> PeerEndpointPortAsync(TailnetServer node, int expected, CancellationToken cancellationToken)
    {
        int? port = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            port = node.GetStatus().Peers.Single().Endpoint?.Port;
            if (port == expected)
            {
                break;
            }

            await Task.Delay(20, CancellationToken.None);
        }

        return port;
    }
}
