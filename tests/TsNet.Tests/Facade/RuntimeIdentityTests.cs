using System.Net;
using System.Net.Sockets;

namespace TsNet.Tests.Facade;

/// <summary>
/// The node's addresses and key changed while it runs (what a control server does), driven in static mode through
/// the internal hooks: listeners follow the addresses, connections on a removed address are reset, and a key
/// rotation re-handshakes without breaking connections.
/// </summary>
public sealed class RuntimeIdentityTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Listener_AcceptsOnAnAddressAddedWhileRunning()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(7300, cts.Token);

            await b.SetAddressesAsync([IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("100.64.0.22/32")], cts.Token);

            b.Addresses.Should().Equal(IPAddress.Parse("100.64.0.2"), IPAddress.Parse("100.64.0.22"));
            b.GetStatus().Addresses.Should().Equal(b.Addresses);
            var accept = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("100.64.0.22:7300", cts.Token);
            await using var server = await accept ?? throw new InvalidOperationException("no connection");
            server.LocalEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.22"), 7300));
            await RoundTripAsync(client, server, 1, cts.Token);
        }
    }

    [Fact]
    public async Task ConnectionOnARemovedAddress_IsResetOnBothSides_OthersContinue()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await b.SetAddressesAsync([IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("100.64.0.22/32")], cts.Token);
            await using var listener = await b.ListenTcpAsync(7301, cts.Token);
            var (doomedClient, doomedServer) = await ConnectAsync(a, listener, "100.64.0.22:7301", cts.Token);
            var (keptClient, keptServer) = await ConnectAsync(a, listener, "100.64.0.2:7301", cts.Token);
            await using (doomedClient)
            await using (doomedServer)
            await using (keptClient)
            await using (keptServer)
            {
                await RoundTripAsync(doomedClient, doomedServer, 1, cts.Token);

                await b.SetAddressesAsync([IPNetwork.Parse("100.64.0.2/32")], cts.Token);

                b.Addresses.Should().Equal(IPAddress.Parse("100.64.0.2"));
                var buffer = new byte[16];
                var serverRead = async () => await doomedServer.ReadAsync(buffer, cts.Token);
                (await serverRead.Should().ThrowAsync<IOException>("the app's stream fails as after a RST"))
                    .WithInnerException<SocketException>();
                var clientRead = async () => await doomedClient.ReadAsync(buffer, cts.Token);
                (await clientRead.Should().ThrowAsync<IOException>("the peer got a RST"))
                    .WithInnerException<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
                await RoundTripAsync(keptClient, keptServer, 2, cts.Token);
            }
        }
    }

    [Fact]
    public async Task NodeKeyRotation_PeersHandshakeAgain_AndTheConnectionContinues()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(7302, cts.Token);
            var (client, server) = await ConnectAsync(a, listener, "100.64.0.2:7302", cts.Token);
            await using (client)
            await using (server)
            {
                await RoundTripAsync(client, server, 1, cts.Token);
                var oldKey = a.PublicKey;
                var newKey = WireGuardKey.Generate();

                await a.SetPrivateKeyAsync(newKey, cts.Token);

                a.PublicKey.Should().Be(newKey.PublicKey);
                a.GetStatus().PublicKey.Should().Be(newKey.PublicKey);
                (await a.InspectAsync(core => new WireGuardKey(core.PublicKey), cts.Token)).Should().Be(newKey.PublicKey);
                (await a.InspectAsync(core => core.Peers.Single().SessionState, cts.Token)).Should().NotBe("established", "the old sessions are dropped");

                // B learns the new key the way a netmap update would bring it: the old node key goes, the new one comes.
                (await b.RemovePeerAsync(oldKey, cts.Token)).Should().BeTrue();
                await b.AddOrUpdatePeerAsync(PeerOf(a, port: a.ListenPort), cts.Token);

                await RoundTripAsync(client, server, 2, cts.Token);
                (await a.InspectAsync(core => core.Peers.Single().HandshakesCompleted, cts.Token)).Should().BeGreaterThanOrEqualTo(2);
                b.GetStatus().Peers.Single().PublicKey.Should().Be(newKey.PublicKey);
                b.GetStatus().Peers.Single().LastHandshake.Should().NotBeNull("B handshook with A's new key");
            }
        }
    }

    [Fact]
    public async Task SetPrivateKey_RefusesAPeersKey_AndSettersWorkBeforeStart()
    {
        using var cts = new CancellationTokenSource(Bound);
        var peerKey = WireGuardKey.Generate();
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            Peers = { new TailnetPeer { PublicKey = peerKey.PublicKey, AllowedIps = { IPNetwork.Parse("100.64.0.2/32") } } },
        });

        var clash = async () => await node.SetPrivateKeyAsync(peerKey, cts.Token);
        await clash.Should().ThrowAsync<ArgumentException>();

        var key = WireGuardKey.Generate();
        await node.SetPrivateKeyAsync(key, cts.Token);
        await node.SetAddressesAsync([IPNetwork.Parse("100.64.0.5/32")], cts.Token);
        await node.StartAsync(cts.Token);

        node.PublicKey.Should().Be(key.PublicKey);
        (await node.InspectAsync(core => new WireGuardKey(core.PublicKey), cts.Token)).Should().Be(key.PublicKey);
        node.Addresses.Should().Equal(IPAddress.Parse("100.64.0.5"));
        node.GetStatus().Addresses.Should().Equal(IPAddress.Parse("100.64.0.5"));
    }

    private static async Task<(TailnetServer A, TailnetServer B)> StartPairAsync(CancellationToken cancellationToken)
    {
        var a = await PeerRegistryFacadeTests.StartAsync("100.64.0.1", cancellationToken);
        var b = await PeerRegistryFacadeTests.StartAsync("100.64.0.2", cancellationToken);
        var bFromA = PeerOf(b, port: b.ListenPort);
        bFromA.AllowedIps.Add(IPNetwork.Parse("100.64.0.22/32"));
        await a.AddOrUpdatePeerAsync(bFromA, cancellationToken);
        await b.AddOrUpdatePeerAsync(PeerOf(a, port: a.ListenPort), cancellationToken);
        return (a, b);
    }

    private static TailnetPeer PeerOf(TailnetServer node, int port) => new()
    {
        PublicKey = node.PublicKey,
        Endpoint = "127.0.0.1:" + port,
        AllowedIps = { IPNetwork.Parse(node.Addresses[0] + "/32") },
    };

    private static async Task<(TailnetConnection Client, TailnetConnection Server)> ConnectAsync(
        TailnetServer from, TailnetListener listener, string target, CancellationToken cancellationToken)
    {
        var accept = listener.AcceptAsync(cancellationToken).AsTask();
        var client = await from.ConnectTcpAsync(target, cancellationToken);
        var server = await accept ?? throw new InvalidOperationException("no connection");
        return (client, server);
    }

    private static async Task RoundTripAsync(Stream client, Stream server, byte marker, CancellationToken cancellationToken)
    {
        var message = Enumerable.Repeat(marker, 3000).ToArray();
        await client.WriteAsync(message, cancellationToken);
        var received = new byte[message.Length];
        await server.ReadExactlyAsync(received, cancellationToken);
        received.Should().Equal(message);
        await server.WriteAsync(received, cancellationToken);
        await client.ReadExactlyAsync(received, cancellationToken);
        received.Should().Equal(message);
    }
}
