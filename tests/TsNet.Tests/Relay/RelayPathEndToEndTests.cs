using System.Net;
using System.Security.Cryptography;

namespace TsNet.Tests.Relay;

/// <summary>
/// Two nodes that know no direct endpoint of each other (each peer is configured with a relay path only, and both
/// listen on ephemeral ports) talk through an in-process <see cref="UdpRelayServer"/> on loopback.
/// </summary>
public sealed class RelayPathEndToEndTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static async Task<(UdpRelayServer Relay, TailnetServer A, TailnetServer B)> StartRelayedPairAsync(TimeSpan? bindRetry, CancellationToken cancellationToken)
    {
        var relay = await UdpRelayServer.StartAsync(new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } }, cancellationToken);
        var a = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            TestHooks = { RelayBindRetryInterval = bindRetry ?? TimeSpan.FromSeconds(1) },
        });
        var b = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            DiscoKey = DiscoKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.2/32") },
            TestHooks = { RelayBindRetryInterval = bindRetry ?? TimeSpan.FromSeconds(1) },
        });
        var endpoint = relay.AllocateEndpoint(a.DiscoPublicKey, b.DiscoPublicKey);
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        a.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = b.PublicKey,
            AllowedIps = { IPNetwork.Parse("100.64.0.2/32") },
            Relay = TailnetRelayPath.FromEndpoint(endpoint, b.DiscoPublicKey),
        });
        b.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = a.PublicKey,
            AllowedIps = { IPNetwork.Parse("100.64.0.1/32") },
            Relay = TailnetRelayPath.FromEndpoint(endpoint, a.DiscoPublicKey),
        });
        await PingUntilAnsweredAsync(a, IPAddress.Parse("100.64.0.2"), cancellationToken);
        return (relay, a, b);
    }

    /// <summary>The first pings may go out before both legs are bound (dropped); WireGuard retries its handshake every 5 s.</summary>
    internal static async Task PingUntilAnsweredAsync(TailnetServer from, IPAddress to, CancellationToken cancellationToken)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                await from.PingAsync(to, TimeSpan.FromSeconds(1), cancellationToken);
                return;
            }
            catch (TimeoutException) when (i < 20)
            {
            }
        }
    }

    [Fact]
    public async Task TcpStreamAndPings_GoThroughTheRelay_AndSurviveARebind()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (relay, a, b) = await StartRelayedPairAsync(null, cts.Token);
        await using (relay)
        await using (a)
        await using (b)
        {
            (await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(5), cts.Token)).Should().BePositive();
            (await b.PingAsync(IPAddress.Parse("100.64.0.1"), TimeSpan.FromSeconds(5), cts.Token)).Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);

            var size = 5 * 1024 * 1024 * TestScale.Factor;
            await TransferAsync(a, b, size, port: 8080, cts.Token);

            // Everything went through the relay: WireGuard's endpoint for the peer is the relay, which forwarded it all.
            var relayEndPoint = new IPEndPoint(IPAddress.Loopback, relay.Port);
            a.GetStatus().Peers.Should().ContainSingle().Which.Endpoint.Should().Be(relayEndPoint);
            b.GetStatus().Peers.Should().ContainSingle().Which.Endpoint.Should().Be(relayEndPoint);
            var counters = relay.GetCounters();
            counters.ForwardedPackets.Should().BeGreaterThan(2L * size / 1400, "both streams' segments were forwarded");
            counters.ForwardedBytes.Should().BeGreaterThan(2L * size);
            counters.LegsBound.Should().BeGreaterThanOrEqualTo(2);

            // A re-bind (new generation on both nodes) keeps the session: more data and pings afterwards.
            var before = (await a.InspectRelayPathsAsync(cts.Token)).Single();
            var legsBound = relay.GetCounters().LegsBound;
            await a.RestartRelayHandshakesAsync(cts.Token);
            await b.RestartRelayHandshakesAsync(cts.Token);
            await WaitUntilAsync(() => relay.GetCounters().LegsBound >= legsBound + 2, cts.Token);
            var after = (await a.InspectRelayPathsAsync(cts.Token)).Single();
            after.Generation.Should().BeGreaterThan(before.Generation);
            after.Handshakes.Should().BeGreaterThan(before.Handshakes);
            after.Bound.Should().BeTrue();

            var forwardedBefore = relay.GetCounters().ForwardedPackets;
            await TransferAsync(b, a, 256 * 1024, port: 8081, cts.Token);
            (await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(5), cts.Token)).Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
            (await b.PingAsync(IPAddress.Parse("100.64.0.1"), TimeSpan.FromSeconds(5), cts.Token)).Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
            relay.GetCounters().ForwardedPackets.Should().BeGreaterThan(forwardedBefore + 100);
            a.GetStatus().Drops.Should().NotContainKey("relay.HandshakeFailed");
        }
    }

    [Fact]
    public async Task RelayDisappears_PeerFailsCleanly_WithDropsCounted()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (relay, a, b) = await StartRelayedPairAsync(TimeSpan.FromMilliseconds(100), cts.Token);
        await using (a)
        await using (b)
        {
            await relay.DisposeAsync();

            // Rebind now: nobody answers; after a handshake's worth of Binds the path counts as lost.
            await a.RestartRelayHandshakesAsync(cts.Token);
            await WaitUntilAsync(() => a.GetStatus().Drops.GetValueOrDefault("relay.HandshakeFailed") >= 1, cts.Token);
            (await a.InspectRelayPathsAsync(cts.Token)).Should().ContainSingle().Which.Bound.Should().BeFalse();

            var notBound = a.GetStatus().Drops.GetValueOrDefault("relay.NotBound");
            var ping = async () => await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromMilliseconds(500), cts.Token);
            await ping.Should().ThrowAsync<TimeoutException>();
            await WaitUntilAsync(() => a.GetStatus().Drops.GetValueOrDefault("relay.NotBound") > notBound, cts.Token);

            // The node itself is fine: its loop still answers, and it keeps trying to bind (bounded rate).
            a.GetStatus().Peers.Should().ContainSingle();
            (await a.InspectRelayPathsAsync(cts.Token)).Single().Generation.Should().BeGreaterThan(1);
        }
    }

    private static async Task TransferAsync(TailnetServer client, TailnetServer server, int size, int port, CancellationToken cancellationToken)
    {
        var upload = new byte[size];
        var download = new byte[size];
        new Random(port).NextBytes(upload);
        new Random(port + 1).NextBytes(download);
        var serverAddress = server.Addresses[0];
        await using var listener = await server.ListenTcpAsync(port, cancellationToken);
        var serving = Task.Run(async () =>
        {
            await using var connection = await listener.AcceptAsync(cancellationToken) ?? throw new InvalidOperationException("listener closed");
            var received = new MemoryStream();
            var reading = connection.CopyToAsync(received, cancellationToken);
            await connection.WriteAsync(download, cancellationToken);
            await connection.ShutdownWriteAsync(cancellationToken);
            await reading;
            return received.ToArray();
        }, cancellationToken);

        await using var connection = await client.ConnectTcpAsync(new IPEndPoint(serverAddress, port).ToString(), cancellationToken);
        var clientReceived = new MemoryStream();
        var clientReading = connection.CopyToAsync(clientReceived, cancellationToken);
        var transfer = Task.Run(async () =>
        {
            await connection.WriteAsync(upload, cancellationToken);
            await connection.ShutdownWriteAsync(cancellationToken);
            await clientReading;
            return await serving;
        }, cancellationToken);
        if (await Task.WhenAny(transfer, Task.Delay(TimeSpan.FromSeconds(60), cancellationToken)) != transfer)
        {
            // Say where it stuck before the bound cancels everything.
            throw new TimeoutException(
                $"transfer stuck: client received {clientReceived.Length} of {size}\nclient:\n{await client.DescribeAsync()}\n{Drops(client)}\nserver:\n{await server.DescribeAsync()}\n{Drops(server)}");
        }

        var serverReceived = await transfer;

        serverReceived.Length.Should().Be(size);
        clientReceived.Length.Should().Be(size);
        SHA256.HashData(serverReceived).Should().Equal(SHA256.HashData(upload), "the upload arrives byte-exact");
        SHA256.HashData(clientReceived.ToArray()).Should().Equal(SHA256.HashData(download), "the download arrives byte-exact");
    }

    private static string Drops(TailnetServer node) => string.Join(", ", node.GetStatus().Drops.Select(d => $"{d.Key}={d.Value}"));

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within the deadline");
            await Task.Delay(20, cancellationToken);
        }
    }
}
