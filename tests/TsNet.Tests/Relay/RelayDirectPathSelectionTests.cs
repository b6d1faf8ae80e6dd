using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace TsNet.Tests.Relay;

/// <summary>
/// Real sockets on loopback: two nodes whose peers have both an endpoint and a relay path through an in-process
/// <see cref="UdpRelayServer"/>. With wrong endpoints (silent sockets) they talk through the relay; once one side gets
/// the right endpoint, disco pongs confirm the direct path both ways and traffic leaves the relay, in the same
/// WireGuard session.
/// </summary>
public sealed class RelayDirectPathSelectionTests(ITestOutputHelper output)
{
    private static readonly IPAddress AddressA = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress AddressB = IPAddress.Parse("100.64.0.2");

    [Fact]
    public async Task WrongEndpoints_UseTheRelay_ThenTheRightEndpoint_MovesTrafficDirect_InTheSameSession()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var holeForA = SilentSocket();
        using var holeForB = SilentSocket();
        await using var relay = await UdpRelayServer.StartAsync(new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } }, cts.Token);
        await using var a = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { new IPNetwork(AddressA, 32) } });
        await using var b = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { new IPNetwork(AddressB, 32) } });
        await a.StartAsync(cts.Token);
        await b.StartAsync(cts.Token);
        var endpoint = relay.AllocateEndpoint(a.DiscoPublicKey, b.DiscoPublicKey);
        var peerOfA = new TailnetPeer
        {
            PublicKey = b.PublicKey,
            Endpoint = holeForB.LocalEndPoint!.ToString(),
            AllowedIps = { new IPNetwork(AddressB, 32) },
            Relay = TailnetRelayPath.FromEndpoint(endpoint, b.DiscoPublicKey),
        };
        a.AddOrUpdatePeer(peerOfA);
        b.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = a.PublicKey,
            Endpoint = holeForA.LocalEndPoint!.ToString(),
            AllowedIps = { new IPNetwork(AddressA, 32) },
            Relay = TailnetRelayPath.FromEndpoint(endpoint, a.DiscoPublicKey),
        });
        await RelayPathEndToEndTests.PingUntilAnsweredAsync(a, AddressB, cts.Token);

        // Nothing answers at the endpoints: the relay carries everything.
        var relayPath = "relay 127.0.0.1:" + relay.Port;
        a.GetStatus().Peers.Single().Path.Should().Be(relayPath);
        b.GetStatus().Peers.Single().Path.Should().Be(relayPath);
        var forwarded = relay.GetCounters().ForwardedBytes;
        await TransferAsync(a, b, 512 * 1024, 8080, cts.Token);
        relay.GetCounters().ForwardedBytes.Should().BeGreaterThan(forwarded + (512 * 1024), "the upload went through the relay");
        var handshake = a.GetStatus().Peers.Single().LastHandshake;
        handshake.Should().NotBeNull();

        // A learns B's real endpoint; its pings reach B, B's pongs confirm them, and B pings back the address it saw.
        peerOfA.Endpoint = "127.0.0.1:" + b.ListenPort;
        var switching = System.Diagnostics.Stopwatch.StartNew();
        a.AddOrUpdatePeer(peerOfA);
        await WaitForPathsAsync(a, b, "direct 127.0.0.1:" + b.ListenPort, "direct 127.0.0.1:" + a.ListenPort, cts.Token);
        output.WriteLine($"both paths direct {switching.Elapsed.TotalSeconds:F1} s after A learned B's endpoint");

        var forwardedPackets = relay.GetCounters().ForwardedPackets;
        await TransferAsync(a, b, 512 * 1024, 8081, cts.Token);
        relay.GetCounters().ForwardedPackets.Should().Be(forwardedPackets, "the direct path carries everything now");
        holeForA.Available.Should().BePositive("B's pings went to the wrong endpoint it still has for A");
        a.GetStatus().Peers.Single().LastHandshake.Should().Be(handshake, "the switch to direct needed no new handshake");
    }

    private static Socket SilentSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>Pings both ways (data keeps the heartbeats going) until both paths read as expected; bounded.</summary>
    private static async Task WaitForPathsAsync(TailnetServer a, TailnetServer b, string pathOfA, string pathOfB, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (a.GetStatus().Peers.Single().Path != pathOfA || b.GetStatus().Peers.Single().Path != pathOfB)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, $"the paths should become direct (A: {a.GetStatus().Peers.Single().Path}, B: {b.GetStatus().Peers.Single().Path})");
            await a.PingAsync(AddressB, TimeSpan.FromSeconds(5), cancellationToken);
            await b.PingAsync(AddressA, TimeSpan.FromSeconds(5), cancellationToken);
            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task TransferAsync(TailnetServer client, TailnetServer server, int size, int port, CancellationToken cancellationToken)
    {
        var upload = RandomNumberGenerator.GetBytes(size);
        await using var listener = await server.ListenTcpAsync(port, cancellationToken);
        var serving = Task.Run(async () =>
        {
            await using var connection = await listener.AcceptAsync(cancellationToken) ?? throw new InvalidOperationException("listener closed");
            var received = new MemoryStream();
            await connection.CopyToAsync(received, cancellationToken);
            await connection.WriteAsync(SHA256.HashData(received.ToArray()), cancellationToken);
            await connection.ShutdownWriteAsync(cancellationToken);
            return received.ToArray();
        }, cancellationToken);

        await using var connection = await client.ConnectTcpAsync(new IPEndPoint(server.Addresses[0], port).ToString(), cancellationToken);
        await connection.WriteAsync(upload, cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
        var digest = new MemoryStream();
        await connection.CopyToAsync(digest, cancellationToken);
        var received = await serving;
        received.Length.Should().Be(size);
        received.AsSpan().SequenceEqual(upload).Should().BeTrue("the stream arrives byte-exact");
        digest.ToArray().Should().Equal(SHA256.HashData(upload), "the server saw the same bytes");
    }
}
