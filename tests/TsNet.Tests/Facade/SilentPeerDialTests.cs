using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Netstack;
using TsNet.Tests.Underlay;
using TsNet.Underlay;

namespace TsNet.Tests.Facade;

/// <summary>
/// Dials to a peer with which no WireGuard handshake completes fail within the handshake bound and say what to check;
/// cancelled dials leave nothing behind (issue 15). On the in-memory underlay with a manual clock.
/// </summary>
public sealed class SilentPeerDialTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task ConnectTcp_ToPeerThatNeverAnswers_FailsWithinTheBound_NamingPeerEndpointAndWhatToCheck()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            var ghost = AddGhost(a, b);
            var started = clock.GetUtcNow();
            var dial = a.ConnectTcpAsync("100.64.0.9:80", cts.Token).AsTask();
            await clock.AdvanceUntilAsync(() => dial.IsCompleted, Step, Bound);

            var error = (await FluentActions.Awaiting(() => dial).Should().ThrowAsync<SocketException>()).Which;
            var waited = clock.GetUtcNow() - started;
            waited.Should().BeGreaterThanOrEqualTo(TailnetServer.DefaultDialHandshakeWait).And.BeLessThan(TimeSpan.FromSeconds(11));
            error.SocketErrorCode.Should().Be(SocketError.HostUnreachable);
            error.Message.Should().Contain("no WireGuard handshake with peer 'ghost'")
                .And.Contain(ghost.ToString())
                .And.Contain("endpoint 127.0.0.1:" + b.ListenPort)
                .And.Contain("does the peer know this node's public key (" + a.PublicKey + ")")
                .And.Contain("is its endpoint reachable");

            (await a.Netstack.TcpConnectionCountAsync(cts.Token)).Should().Be(0, "the given-up dial leaves no SYN-SENT connection");

            // A peer with a session is not cut short: the same node still dials its real peer.
            await using var listener = await b.ListenTcpAsync(80, cts.Token);
            var accept = listener.AcceptAsync(cts.Token).AsTask();
            var good = a.ConnectTcpAsync("100.64.0.2:80", cts.Token).AsTask();
            await using var connection = await clock.AdvanceUntilAsync(good, Step, Bound);
            await using var accepted = await clock.AdvanceUntilAsync(accept, Step, Bound);
            connection.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.2"), 80));
        }
    }

    /// <summary>
    /// The proxy's own dial timeout shorter than, equal to and longer than the handshake bound: whichever timer ends
    /// the wait, a peer without a session gets host unreachable (0x04), sent when the first of the two fires.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(30)]
    public async Task Socks5Connect_ToPeerThatNeverAnswers_GetsHostUnreachable_WhenTheFirstDeadlineFires(int dialTimeoutSeconds)
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            AddGhost(a, b);
            var dialTimeout = TimeSpan.FromSeconds(dialTimeoutSeconds);
            await using var proxy = await a.StartLoopbackProxyAsync(
                new LoopbackProxyOptions { DialTimeout = dialTimeout, NegotiationTimeout = TimeSpan.FromSeconds(60) }, cts.Token);
            using (var socket = await Socks5.Socks5TestClient.AuthenticatedAsync(proxy, cts.Token))
            {
                // The clock stands still until the request is sent, so the wait is measured from the dial.
                var started = clock.GetUtcNow();
                await socket.SendAsync(Socks5.Socks5TestClient.Request(0x01, new IPEndPoint(IPAddress.Parse("100.64.0.9"), 80)), cts.Token);
                var replied = Socks5.Socks5TestClient.ReadReplyAsync(socket, cts.Token);
                var expected = dialTimeout < TailnetServer.DefaultDialHandshakeWait ? dialTimeout : TailnetServer.DefaultDialHandshakeWait;

                // Coarse steps up to just before the deadline, then fine ones: a loaded machine that takes a while to
                // turn the fired timer into a reply must not be able to push the clock a whole second past it.
                var nearDeadline = expected - TimeSpan.FromMilliseconds(200);
                await clock.AdvanceUntilAsync(() => replied.IsCompleted || clock.GetUtcNow() - started >= nearDeadline, Step, Bound);
                replied.IsCompleted.Should().BeFalse("the reply waits for the first deadline");
                var reply = await clock.AdvanceUntilAsync(replied, TimeSpan.FromMilliseconds(5), Bound);
                reply.Should().Equal(Socks5.Socks5TestClient.Failure(0x04), "no handshake with the peer is host unreachable, whichever deadline fired");
                (clock.GetUtcNow() - started).Should().BeGreaterThanOrEqualTo(expected).And.BeLessThan(expected + TimeSpan.FromSeconds(1));
            }
        }
    }

    [Fact]
    public async Task Socks5Connect_ThroughPeerWithSession_ToHostThatNeverAnswers_GetsTtlExpiredAtTheDialTimeout()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            // B gets a SYN for an address it does not own and drops it: the peer answers handshakes, the host never.
            a.AddOrUpdatePeer(new TailnetPeer
            {
                PublicKey = b.PublicKey,
                Endpoint = "127.0.0.1:" + b.ListenPort,
                AllowedIps = { IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("100.64.0.50/32") },
                Name = "bee",
            });
            var dialTimeout = TimeSpan.FromSeconds(3);
            await using var proxy = await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { DialTimeout = dialTimeout }, cts.Token);
            using (var socket = await Socks5.Socks5TestClient.AuthenticatedAsync(proxy, cts.Token))
            {
                // The clock stands still until the request is sent, so the wait is measured from the dial.
                var started = clock.GetUtcNow();
                await socket.SendAsync(Socks5.Socks5TestClient.Request(0x01, new IPEndPoint(IPAddress.Parse("100.64.0.50"), 80)), cts.Token);
                var reply = await clock.AdvanceUntilAsync(Socks5.Socks5TestClient.ReadReplyAsync(socket, cts.Token), Step, Bound);
                reply.Should().Equal(Socks5.Socks5TestClient.Failure(0x06), "the peer has a session: it was the host that did not answer");
                (clock.GetUtcNow() - started).Should().BeGreaterThanOrEqualTo(dialTimeout).And.BeLessThan(dialTimeout + TimeSpan.FromSeconds(1));
            }
        }
    }

    [Fact]
    public async Task HttpClientRequest_ToPeerThatNeverAnswers_FailsWithinTheBound_SayingWhy()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            AddGhost(a, b);
            using var http = a.CreateHttpClient();
            var started = clock.GetUtcNow();
            var request = http.GetAsync(new Uri("http://100.64.0.9/"), cts.Token);
            await clock.AdvanceUntilAsync(() => request.IsCompleted, Step, Bound);
            var error = (await FluentActions.Awaiting(() => request).Should().ThrowAsync<HttpRequestException>()).Which;
            (clock.GetUtcNow() - started).Should().BeLessThan(TimeSpan.FromSeconds(11));
            error.InnerException.Should().BeOfType<SocketException>()
                .Which.Message.Should().Contain("no WireGuard handshake with peer 'ghost'");
        }
    }

    [Fact]
    public async Task Ping_ToPeerThatNeverAnswers_TimesOut_NamingThePeer()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            AddGhost(a, b);
            var ping = a.PingAsync(IPAddress.Parse("100.64.0.9"), TimeSpan.FromSeconds(3), cts.Token).AsTask();
            await clock.AdvanceUntilAsync(() => ping.IsCompleted, Step, Bound);
            (await FluentActions.Awaiting(() => ping).Should().ThrowAsync<TimeoutException>())
                .Which.Message.Should().Contain("no WireGuard handshake with peer 'ghost'").And.Contain("is its endpoint reachable");
        }
    }

    [Fact]
    public async Task CancelledDials_LeaveNoConnectionBehind()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            AddGhost(a, b);
            const int Dials = 20;
            for (var i = 0; i < Dials; i++)
            {
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                var dial = a.ConnectTcpAsync("100.64.0.9:" + (1000 + i), cancel.Token).AsTask();
                if (i % 2 == 0)
                {
                    // Half are cancelled while the SYN waits, half at once (possibly before the loop ran the connect).
                    clock.Advance(TimeSpan.FromMilliseconds(300));
                }

                await cancel.CancelAsync();
                await FluentActions.Awaiting(() => dial).Should().ThrowAsync<OperationCanceledException>();
            }

            // Aborts are carried out by the loop: give it turns (bounded), then nothing may be left.
            var count = await a.Netstack.TcpConnectionCountAsync(cts.Token);
            for (var turn = 0; count != 0 && turn < 200; turn++)
            {
                clock.Advance(Step);
                count = await a.Netstack.TcpConnectionCountAsync(cts.Token);
            }

            count.Should().Be(0);
        }
    }

    /// <summary>A peer of A at B's endpoint whose key B does not have: B drops every handshake initiation.</summary>
    internal static WireGuardKey AddGhost(TailnetServer a, TailnetServer b)
    {
        var ghost = WireGuardKey.Generate().PublicKey;
        a.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = ghost,
            Endpoint = "127.0.0.1:" + b.ListenPort,
            AllowedIps = { IPNetwork.Parse("100.64.0.9/32") },
            Name = "ghost",
        });
        return ghost;
    }
}
