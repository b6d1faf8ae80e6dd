using System.Net;
using TsNet.Tests.Netstack;
using TsNet.Tests.Services;
using TsNet.Tests.Underlay;
using TsNet.Underlay;

namespace TsNet.Tests.Socks5;

/// <summary>
/// A CONNECT that cannot reach its target tells the client only a reply code; the node logs why at Information, where
/// a user running <c>tsnet up --socks5</c> looks (issue 15's second newcomer pass).
/// </summary>
public sealed class Socks5DialFailureLogTests
{
    private const int DialFailedEvent = 3116;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task RefusedConnects_LogTheReason_NamingTheSilentPeer_TheUnroutedAddress_AndTheUnknownName()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var log = new LogRecorder();
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            TimeProvider = clock,
            LoggerFactory = log,
            TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub },
            Peers =
            {
                // Nothing listens at this endpoint of the hub: no handshake ever completes.
                new TailnetPeer
                {
                    PublicKey = WireGuardKey.Generate().PublicKey,
                    Endpoint = "127.0.0.1:9",
                    AllowedIps = { IPNetwork.Parse("100.64.0.9/32") },
                    Name = "ghost",
                },
            },
        });
        await node.StartAsync(cts.Token);
        await using var proxy = await node.StartLoopbackProxyAsync(cancellationToken: cts.Token);

        (await ConnectAsync(proxy, Socks5TestClient.Request(0x01, new IPEndPoint(IPAddress.Parse("100.64.0.9"), 80)), clock, cts.Token))
            .Should().Equal(Socks5TestClient.Failure(0x04));
        (await ConnectAsync(proxy, Socks5TestClient.Request(0x01, new IPEndPoint(IPAddress.Parse("10.9.9.9"), 80)), clock, cts.Token))
            .Should().Equal(Socks5TestClient.Failure(0x04));
        (await ConnectAsync(proxy, Socks5TestClient.Request(0x01, "nosuchpeer", 80), clock, cts.Token))
            .Should().Equal(Socks5TestClient.Failure(0x04));

        var lines = log.Messages(DialFailedEvent);
        lines.Should().HaveCount(3);
        lines[0].Should().Contain("CONNECT 100.64.0.9:80 refused with reply 04: no WireGuard handshake with peer 'ghost'")
            .And.Contain("endpoint 127.0.0.1:9").And.Contain("is its endpoint reachable");
        lines[1].Should().Contain("CONNECT 10.9.9.9:80 refused with reply 04: no peer routes 10.9.9.9");
        lines[2].Should().Contain("CONNECT nosuchpeer:80 refused with reply 04").And.Contain("nosuchpeer");
    }

    /// <summary>Authenticates (the clock stands still), sends <paramref name="request"/>, then advances the clock until the reply.</summary>
    private static async Task<byte[]> ConnectAsync(LoopbackProxy proxy, byte[] request, ManualTimeProvider clock, CancellationToken cancellationToken)
    {
        using var socket = await Socks5TestClient.AuthenticatedAsync(proxy, cancellationToken);
        await socket.SendAsync(request, cancellationToken);
        return await clock.AdvanceUntilAsync(Socks5TestClient.ReadReplyAsync(socket, cancellationToken), Step, Bound);
    }
}
