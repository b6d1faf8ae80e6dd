using System.Net;

namespace TsNet.Tests.Facade;

/// <summary>AddOrUpdatePeer / RemovePeer while the node runs: other peers' sessions and connections are untouched.</summary>
public sealed class RuntimePeerChangesTests
{
    [Fact]
    public async Task UpdatingOnePeer_AndRemovingAnother_KeepsTheFirstPeersSessionAndConnection()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var a = await StartAsync("100.64.0.1", cts.Token);
        await using var b = await StartAsync("100.64.0.2", cts.Token);
        await using var c = await StartAsync("100.64.0.3", cts.Token);
        foreach (var (node, peer) in new[] { (a, b), (a, c), (b, a), (c, a) })
        {
            node.AddOrUpdatePeer(PeerOf(peer, name: null));
        }

        await PingUntilAnsweredAsync(a, "100.64.0.2", cts.Token);
        await PingUntilAnsweredAsync(a, "100.64.0.3", cts.Token);
        await using var listener = await b.ListenTcpAsync(7100, cts.Token);
        var accept = listener.AcceptAsync(cts.Token).AsTask();
        await using var toB = await a.ConnectTcpAsync("100.64.0.2:7100", cts.Token);
        await using var atB = await accept ?? throw new InvalidOperationException("no connection");
        await RoundTripAsync(toB, atB, 1, cts.Token);
        var before = PeerStatus(a, b);
        before.LastHandshake.Should().NotBeNull();

        // Update B (a name, keepalive and one more allowed prefix), remove C, add an unrelated peer.
        var updated = PeerOf(b, name: "bee");
        updated.PersistentKeepalive = TimeSpan.FromSeconds(25);
        updated.AllowedIps.Add(IPNetwork.Parse("10.99.0.0/24"));
        a.AddOrUpdatePeer(updated);
        a.RemovePeer(c.PublicKey).Should().BeTrue();
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, AllowedIps = { IPNetwork.Parse("100.64.0.50/32") } });

        // The changes apply asynchronously on the dataplane: wait (bounded) until the status shows them.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((a.GetStatus().Peers.Count != 2 || PeerStatus(a, b).Name != "bee") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, cts.Token);
        }

        a.GetStatus().Peers.Should().HaveCount(2, "B and the new peer; C is gone");
        var after = PeerStatus(a, b);
        after.Name.Should().Be("bee");
        after.LastHandshake.Should().Be(before.LastHandshake, "updating B's settings keeps its session (no new handshake)");
        await RoundTripAsync(toB, atB, 2, cts.Token);
        await using (var byName = await a.ConnectTcpAsync("bee:7100", cts.Token))
        {
            byName.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.2"), 7100), "the new name dials");
        }

        var toC = async () => await a.PingAsync(IPAddress.Parse("100.64.0.3"), TimeSpan.FromMilliseconds(500), cts.Token);
        (await toC.Should().ThrowAsync<System.Net.Sockets.SocketException>("C was removed")).Which.Message.Should().StartWith("no peer routes 100.64.0.3");
        PeerStatus(a, b).LastHandshake.Should().Be(before.LastHandshake);
    }

    private static async Task RoundTripAsync(Stream client, Stream server, byte marker, CancellationToken cancellationToken)
    {
        var message = Enumerable.Repeat(marker, 5000).ToArray();
        await client.WriteAsync(message, cancellationToken);
        var received = new byte[message.Length];
        await server.ReadExactlyAsync(received, cancellationToken);
        received.Should().Equal(message);
        await server.WriteAsync(received, cancellationToken);
        await client.ReadExactlyAsync(received, cancellationToken);
        received.Should().Equal(message);
    }

    private static TailnetPeerStatus PeerStatus(TailnetServer node, TailnetServer peer) =>
        node.GetStatus().Peers.Single(p => p.PublicKey == peer.PublicKey);

    private static async Task<TailnetServer> StartAsync(string address, CancellationToken cancellationToken)
    {
        var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse(address + "/32") },
        });
        await node.StartAsync(cancellationToken);
        return node;
    }

    private static TailnetPeer PeerOf(TailnetServer node, string? name) => new()
    {
        PublicKey = node.PublicKey,
        Endpoint = "127.0.0.1:" + node.ListenPort,
        AllowedIps = { IPNetwork.Parse(node.Addresses[0] + "/32") },
        Name = name,
    };

    private static async Task PingUntilAnsweredAsync(TailnetServer node, string target, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await node.PingAsync(IPAddress.Parse(target), TimeSpan.FromSeconds(1), cancellationToken);
                return;
            }
            catch (TimeoutException) when (attempt < 20)
            {
                // Peers apply asynchronously; the first handshake may still be on its way.
            }
        }
    }
}
