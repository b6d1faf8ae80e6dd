using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Netstack;
using TsNet.Tests.Underlay;
using TsNet.Underlay;

namespace TsNet.Tests.Facade;

/// <summary>
/// UDP sends to a peer with which no WireGuard handshake completes (issue 15): bounded while the node tries, then
/// failing with the handshake bound's error until the peer answers or the node gives up. In-memory underlay, manual clock.
/// </summary>
public sealed class UdpSilentPeerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private static readonly IPEndPoint Ghost = new(IPAddress.Parse("100.64.0.9"), 53);

    [Fact]
    public async Task SendTo_SilentPeer_QueuesAtMost128_DroppingTheOldestCounted()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            var ghost = SilentPeerDialTests.AddGhost(a, b);
            await using var socket = await a.BindUdpAsync(0, cts.Token);
            const int Sent = 200;
            for (var i = 0; i < Sent; i++)
            {
                (await socket.SendToAsync(new byte[] { (byte)i }, Ghost, cts.Token)).Should().Be(1, "within the bound a send is queued");
            }

            // The clock stands still: all of them reach the peer's queue before any handshake is retried.
            var (staged, dropped) = (0, 0L);
            for (var turn = 0; staged + dropped < Sent && turn < 2000; turn++)
            {
                await Task.Delay(1, cts.Token);
                staged = await a.InspectAsync(core => core.Peers.Single(p => new WireGuardKey(p.PublicKey).Equals(ghost)).Staged.Count, cts.Token);
                dropped = a.GetStatus().Drops.GetValueOrDefault("wireguard.StagedQueueFull");
            }

            staged.Should().Be(128, "the peer's queue holds 128 datagrams");
            dropped.Should().Be(Sent - 128, "each datagram beyond that pushes the oldest out, counted");
        }
    }

    [Fact]
    public async Task SendTo_SilentPeer_FailsFromTheHandshakeBound_NamingPeerEndpointAndWhatToCheck_UntilTheNodeGivesUp()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            var ghost = SilentPeerDialTests.AddGhost(a, b);
            await using var socket = await a.BindUdpAsync(0, cts.Token);
            var started = clock.GetUtcNow();
            var error = await SendUntilRefusedAsync(socket, Ghost, clock, TimeSpan.FromSeconds(30), cts.Token);
            var waited = clock.GetUtcNow() - started;

            waited.Should().BeGreaterThanOrEqualTo(TailnetServer.DefaultDialHandshakeWait, "not before the bound");
            waited.Should().BeLessThan(TailnetServer.DefaultDialHandshakeWait + TimeSpan.FromSeconds(1), "at the bound, counted from the first unanswered handshake");
            error.SocketErrorCode.Should().Be(SocketError.HostUnreachable);
            error.Message.Should().Contain("no WireGuard handshake with peer 'ghost'")
                .And.Contain(ghost.ToString())
                .And.Contain("endpoint 127.0.0.1:" + b.ListenPort)
                .And.Contain("does the peer know this node's public key (" + a.PublicKey + ")")
                .And.Contain("is its endpoint reachable");

            // Refused sends queue nothing, so the node's retries run out (90 s) and it gives up: the next send is
            // queued again and starts a new attempt with a new bound.
            var gaveUp = clock.GetUtcNow();
            var gaveUpDrops = a.GetStatus().Drops.GetValueOrDefault("wireguard.HandshakeGaveUp");
            await clock.AdvanceUntilAsync(
                () => a.GetStatus().Drops.GetValueOrDefault("wireguard.HandshakeGaveUp") > gaveUpDrops, TimeSpan.FromMilliseconds(500), Bound);
            (clock.GetUtcNow() - gaveUp).Should().BeLessThan(TimeSpan.FromMinutes(2), "20 retries 5 s apart");
            (await socket.SendToAsync(new byte[] { 1 }, Ghost, cts.Token)).Should().Be(1);
            var again = clock.GetUtcNow();
            (await SendUntilRefusedAsync(socket, Ghost, clock, TimeSpan.FromSeconds(30), cts.Token)).SocketErrorCode.Should().Be(SocketError.HostUnreachable);
            (clock.GetUtcNow() - again).Should().BeGreaterThanOrEqualTo(TailnetServer.DefaultDialHandshakeWait, "the new attempt has its own bound");
        }
    }

    [Fact]
    public async Task SendTo_PeerThatStartsAnswering_WorksAgainAtTheNextHandshake()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        await using (var c = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.3/32") },
            TimeProvider = clock,
            TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub },
        }))
        {
            // C does not know A yet: it drops A's handshakes.
            await c.StartAsync(cts.Token);
            await using var receiver = await c.BindUdpAsync(9, cts.Token);
            var target = new IPEndPoint(IPAddress.Parse("100.64.0.3"), 9);
            a.AddOrUpdatePeer(new TailnetPeer
            {
                PublicKey = c.PublicKey,
                Endpoint = "127.0.0.1:" + c.ListenPort,
                AllowedIps = { IPNetwork.Parse("100.64.0.3/32") },
                Name = "sea",
            });
            await using var socket = await a.BindUdpAsync(0, cts.Token);
            (await SendUntilRefusedAsync(socket, target, clock, TimeSpan.FromSeconds(30), cts.Token))
                .Message.Should().Contain("no WireGuard handshake with peer 'sea'");

            await c.AddOrUpdatePeerAsync(new TailnetPeer { PublicKey = a.PublicKey, AllowedIps = { IPNetwork.Parse("100.64.0.1/32") } }, cts.Token);
            var answering = clock.GetUtcNow();
            var sent = false;
            while (!sent)
            {
                try
                {
                    await socket.SendToAsync("back"u8.ToArray(), target, cts.Token);
                    sent = true;
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.HostUnreachable && clock.GetUtcNow() - answering < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(1, cts.Token);
                    clock.Advance(Step);
                }
            }

            (clock.GetUtcNow() - answering).Should().BeLessThan(TimeSpan.FromSeconds(7), "the node retries every 5 s and the first answered retry ends it");
            // What was queued before the bound arrives first (at most the 128 the peer's queue holds), then "back".
            var buffer = new byte[16];
            var earlier = 0;
            while (true)
            {
                var received = await clock.AdvanceUntilAsync(receiver.ReceiveFromAsync(buffer, cts.Token).AsTask(), Step, Bound);
                if (received.ReceivedBytes == 4)
                {
                    buffer.AsSpan(0, 4).ToArray().Should().Equal("back"u8.ToArray());
                    break;
                }

                earlier++;
                earlier.Should().BeLessThanOrEqualTo(128);
            }

            earlier.Should().BePositive("the datagrams queued while the node tried went out with the session");
        }
    }

    [Fact]
    public async Task SendTo_SilentPeerReconfigured_KeepsItsBound_RemovedAndAddedAgain_StartsANewOne()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            var ghost = SilentPeerDialTests.AddGhost(a, b);
            await using var socket = await a.BindUdpAsync(0, cts.Token);
            await SendUntilRefusedAsync(socket, Ghost, clock, TimeSpan.FromSeconds(30), cts.Token);

            // A new entry for the same peer (a netmap or AddOrUpdatePeer): the attempt goes on, it is refused again at
            // the next handshake retry (at most ~5 s), not after a new 10 s bound.
            Ghostly(a, ghost, "ghost-renamed");
            var updated = clock.GetUtcNow();
            (await SendUntilRefusedAsync(socket, Ghost, clock, TimeSpan.FromSeconds(30), cts.Token))
                .Message.Should().Contain("peer 'ghost-renamed'");
            (clock.GetUtcNow() - updated).Should().BeLessThan(TimeSpan.FromSeconds(6));

            // Removed and added again: a new peer, a new attempt with its own bound (the old one refuses nothing).
            (await a.RemovePeerAsync(ghost, cts.Token)).Should().BeTrue();
            Ghostly(a, ghost, "ghost");
            var readded = clock.GetUtcNow();
            (await socket.SendToAsync(new byte[] { 2 }, Ghost, cts.Token)).Should().Be(1);
            await SendUntilRefusedAsync(socket, Ghost, clock, TimeSpan.FromSeconds(30), cts.Token);
            (clock.GetUtcNow() - readded).Should().BeGreaterThanOrEqualTo(TailnetServer.DefaultDialHandshakeWait);
        }

        static void Ghostly(TailnetServer node, WireGuardKey key, string name) => node.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = key,
            Endpoint = "127.0.0.1:1", // nothing answers there on the hub
            AllowedIps = { IPNetwork.Parse("100.64.0.9/32") },
            Name = name,
        });
    }

    /// <summary>Sends one datagram per step of the manual clock until a send is refused; fails after <paramref name="limit"/> of clock time.</summary>
    private static async Task<SocketException> SendUntilRefusedAsync(
        TailnetUdpSocket socket, IPEndPoint remote, ManualTimeProvider clock, TimeSpan limit, CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        while (clock.GetUtcNow() - started < limit)
        {
            try
            {
                await socket.SendToAsync(new byte[] { 0 }, remote, cancellationToken);
            }
            catch (SocketException ex)
            {
                return ex;
            }

            // Let the loops take the datagram (and run the timers the last step released), then move time on.
            await Task.Delay(1, cancellationToken);
            clock.Advance(Step);
        }

        throw new TimeoutException($"no send to {remote} was refused within {limit} of clock time");
    }
}
