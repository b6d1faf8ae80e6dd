using System.Net;
using System.Net.Sockets;
using System.Text;
using TsNet.Tests.Facade;
using TsNet.Tests.Publishing;
using TsNet.Tests.Services;

namespace TsNet.Tests.Socks5;

/// <summary>The loopback SOCKS5 proxy on node A reaching node B: real clients, UDP ASSOCIATE, the cap, disposal.</summary>
public sealed class LoopbackProxyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly IPEndPoint B4 = new(IPAddress.Parse("100.64.0.2"), 0);

    /// <summary>Socks5Log.AtCapacity: the accept loop paused because every connection slot is taken.</summary>
    private const int AtCapacityEvent = 3102;

    [Theory]
    [InlineData("127.0.0.1", "http://100.64.0.2/by-ip", "hello /by-ip from 100.64.0.2:80")]
    [InlineData("127.0.0.1", "http://bee/by-name", "hello /by-name from 100.64.0.2:80")]
    [InlineData("127.0.0.1", "http://[fd7a:115c:a1e0::2]/v6", "hello /v6 from [fd7a:115c:a1e0::2]:80")]
    [InlineData("::1", "http://bee/over-ipv6-loopback", "hello /over-ipv6-loopback from 100.64.0.2:80")]
    public async Task HttpClientWithSocks5WebProxy_FetchesFromThePeer(string listenAddress, string url, string expected)
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(80, cts.Token);
            using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var server = OverlayServers.ServeHttpAsync(listener, stopServer.Token);
            await using var proxy = await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { EndPoint = new IPEndPoint(IPAddress.Parse(listenAddress), 0) }, cts.Token);
            proxy.EndPoint.Address.Should().Be(IPAddress.Parse(listenAddress));

            var proxyUri = new UriBuilder("socks5", proxy.EndPoint.Address.ToString(), proxy.EndPoint.Port).Uri;
            using var handler = new SocketsHttpHandler
            {
                Proxy = new WebProxy(proxyUri) { Credentials = new NetworkCredential(proxy.Username, proxy.Password) },
                UseProxy = true,
            };
            using var http = new HttpClient(handler);
            (await http.GetStringAsync(new Uri(url), cts.Token)).Should().Be(expected);

            // A wrong password fails the request instead of reaching the peer.
            using var wrongHandler = new SocketsHttpHandler
            {
                Proxy = new WebProxy(proxyUri) { Credentials = new NetworkCredential(proxy.Username, "not-the-password") },
                UseProxy = true,
            };
            using var wrong = new HttpClient(wrongHandler);
            var act = async () => await wrong.GetStringAsync(new Uri(url), cts.Token);
            await act.Should().ThrowAsync<HttpRequestException>();

            await stopServer.CancelAsync();
            await server;
        }
    }

    [Fact]
    public async Task Start_GeneratesA32HexPassword_OrUsesTheGivenOne_AndRefusesNonLoopback()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var first = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);
            await using var second = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);
            first.Username.Should().Be("tsnet");
            first.Password.Should().MatchRegex("^[0-9a-f]{32}$");
            second.Password.Should().MatchRegex("^[0-9a-f]{32}$").And.NotBe(first.Password);
            first.EndPoint.Address.Should().Be(IPAddress.Loopback);
            first.EndPoint.Port.Should().NotBe(0);

            await using var given = await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { Password = "correct horse" }, cts.Token);
            given.Password.Should().Be("correct horse");
            using var socket = await Socks5TestClient.AuthenticatedAsync(given, cts.Token);

            var anyAddress = async () => await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { EndPoint = new IPEndPoint(IPAddress.Any, 0) }, cts.Token);
            await anyAddress.Should().ThrowAsync<ArgumentException>();
            var lan = async () => await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { EndPoint = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0) }, cts.Token);
            await lan.Should().ThrowAsync<ArgumentException>();
            var emptyPassword = async () => await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { Password = string.Empty }, cts.Token);
            await emptyPassword.Should().ThrowAsync<ArgumentException>();
            var noCap = async () => await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { MaxConnections = 0 }, cts.Token);
            await noCap.Should().ThrowAsync<ArgumentOutOfRangeException>();
        }
    }

    [Fact]
    public async Task Connect_SplicesBothWays_AndPassesHalfCloseOn()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(7, cts.Token);
            using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var server = OverlayServers.ServeEchoAsync(listener, stopServer.Token);
            await using var proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);

            var (socket, reply) = await Socks5TestClient.ConnectThroughAsync(proxy, new IPEndPoint(B4.Address, 7), cts.Token);
            using (socket)
            {
                // Success, bound to node A's overlay address.
                reply[..8].Should().Equal(0x05, 0x00, 0x00, 0x01, 100, 64, 0, 1);

                var payload = new byte[256 * 1024];
                new Random(5).NextBytes(payload);
                var echoed = Task.Run(() => Socks5TestClient.ReadUntilClosedAsync(socket, Bound, cts.Token), cts.Token);
                await socket.SendAsync(payload, cts.Token);
                socket.Shutdown(SocketShutdown.Send); // the echo server sees FIN, finishes echoing, and closes its side
                (await echoed).Should().Equal(payload);
            }

            await PollAsync(() => proxy.ActiveConnections == 0, cts.Token);
            await stopServer.CancelAsync();
            await server;
        }
    }

    [Fact]
    public async Task UdpAssociate_RelaysDatagramsToAPeerEcho_ByIpByNameAndIpv6_DropsFragments_EndsWithTheControlConnection()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var echoSocket = await b.BindUdpAsync(5353, cts.Token);
            using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var echo = OverlayServers.ServeUdpEchoAsync(echoSocket, stopServer.Token);
            await using var proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);

            var control = await Socks5TestClient.AuthenticatedAsync(proxy, cts.Token);
            using (control)
            {
                await control.SendAsync(Socks5TestClient.Request(0x03, new IPEndPoint(IPAddress.Any, 0)), cts.Token);
                var reply = await Socks5TestClient.ReadReplyAsync(control, cts.Token);
                reply[..4].Should().Equal(0x05, 0x00, 0x00, 0x01);
                var relay = new IPEndPoint(new IPAddress(reply.AsSpan(4, 4)), (reply[8] << 8) | reply[9]);
                relay.Address.Should().Be(IPAddress.Loopback);

                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));

                // A fragment first: it must be dropped, so the first answer is the echo of the standalone datagram.
                byte[] fragment = [0x00, 0x00, 0x01, 0x01, 100, 64, 0, 2, 0x14, 0xE9, .. "fragment"u8];
                await udp.SendToAsync(fragment, relay, cts.Token);

                byte[][] headers =
                [
                    [0x00, 0x00, 0x00, 0x01, 100, 64, 0, 2, 0x14, 0xE9],
                    [0x00, 0x00, 0x00, 0x03, 3, (byte)'b', (byte)'e', (byte)'e', 0x14, 0xE9],
                    [0x00, 0x00, 0x00, 0x04, .. IPAddress.Parse("fd7a:115c:a1e0::2").GetAddressBytes(), 0x14, 0xE9],
                ];
                byte[][] expectedSources =
                [
                    [0x00, 0x00, 0x00, 0x01, 100, 64, 0, 2, 0x14, 0xE9],
                    [0x00, 0x00, 0x00, 0x01, 100, 64, 0, 2, 0x14, 0xE9],
                    [0x00, 0x00, 0x00, 0x04, .. IPAddress.Parse("fd7a:115c:a1e0::2").GetAddressBytes(), 0x14, 0xE9],
                ];
                for (var i = 0; i < headers.Length; i++)
                {
                    var payload = Encoding.ASCII.GetBytes($"datagram {i}");
                    var answer = await SendAndReceiveAsync(udp, relay, [.. headers[i], .. payload], cts.Token);
                    answer.Should().Equal([.. expectedSources[i], .. payload], $"datagram {i} comes back with a header naming its source");
                }

                proxy.ActiveConnections.Should().Be(1);
            }

            // Closing the control connection ends the association and frees the relay.
            await PollAsync(() => proxy.ActiveConnections == 0, cts.Token);
            await stopServer.CancelAsync();
            await echo;
        }
    }

    [Fact]
    public async Task PeerReset_ReachesTheClientAsAReset()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(9, cts.Token);
            var server = Task.Run(async () =>
            {
                await using var connection = await listener.AcceptAsync(cts.Token) ?? throw new InvalidOperationException("listener closed");
                var one = new byte[1];
                await connection.ReadExactlyAsync(one, cts.Token);
                connection.Abort();
            }, cts.Token);
            await using var proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);

            var (socket, reply) = await Socks5TestClient.ConnectThroughAsync(proxy, new IPEndPoint(B4.Address, 9), cts.Token);
            using (socket)
            {
                reply[1].Should().Be(0x00);
                await socket.SendAsync("x"u8.ToArray(), cts.Token);
                await server;
                var receive = async () => await Socks5TestClient.ReadExactlyAsync(socket, 1, cts.Token);
                (await receive.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
            }

            await PollAsync(() => proxy.ActiveConnections == 0, cts.Token);
        }
    }

    [Fact]
    public async Task UdpAssociate_WithADeclaredPort_DropsDatagramsFromOtherSockets()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var echoSocket = await b.BindUdpAsync(5353, cts.Token);
            using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var echo = OverlayServers.ServeUdpEchoAsync(echoSocket, stopServer.Token);
            await using var proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            stranger.Bind(new IPEndPoint(IPAddress.Loopback, 0));

            using var control = await Socks5TestClient.AuthenticatedAsync(proxy, cts.Token);
            await control.SendAsync(Socks5TestClient.Request(0x03, (IPEndPoint)client.LocalEndPoint!), cts.Token);
            var reply = await Socks5TestClient.ReadReplyAsync(control, cts.Token);
            reply[1].Should().Be(0x00);
            var relay = new IPEndPoint(new IPAddress(reply.AsSpan(4, 4)), (reply[8] << 8) | reply[9]);

            byte[] header = [0x00, 0x00, 0x00, 0x01, 100, 64, 0, 2, 0x14, 0xE9];
            for (var i = 0; i < 3; i++)
            {
                await stranger.SendToAsync((byte[])[.. header, .. "stranger"u8], relay, cts.Token);
            }

            await client.SendToAsync((byte[])[.. header, .. "client"u8], relay, cts.Token);
            var buffer = new byte[256];
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            wait.CancelAfter(Socks5TestClient.Step);
            var received = await client.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), wait.Token);
            buffer[..received.ReceivedBytes].Should().Equal([.. header, .. "client"u8], "only the declared client socket's datagrams are relayed");
            stranger.Available.Should().Be(0);
            client.Available.Should().Be(0);

            await stopServer.CancelAsync();
            await echo;
        }
    }

    [Fact]
    public async Task AtTheConnectionCap_TheNextClientWaits_ThenProceedsWhenOneEnds()
    {
        using var cts = new CancellationTokenSource(Bound);
        var log = new LogRecorder();
        await using var pair = await NodePair.StartAsync(cts.Token, loggerFactoryOfA: log);
        var (a, b) = (pair.A, pair.B);
        {
            await using var listener = await b.ListenTcpAsync(7, cts.Token);
            using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var server = OverlayServers.ServeEchoAsync(listener, stopServer.Token);
            await using var proxy = await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { MaxConnections = 2 }, cts.Token);
            var target = new IPEndPoint(B4.Address, 7);

            var (first, firstReply) = await Socks5TestClient.ConnectThroughAsync(proxy, target, cts.Token);
            var (second, secondReply) = await Socks5TestClient.ConnectThroughAsync(proxy, target, cts.Token);
            firstReply[1].Should().Be(0x00);
            secondReply[1].Should().Be(0x00);
            using (second)
            {
                // The third client's TCP connect completes in the backlog (not refused), but nobody answers its greeting.
                using var third = await Socks5TestClient.ConnectAsync(proxy, cts.Token);
                await third.SendAsync(Socks5TestClient.Greeting(), cts.Token);
                var greetingAnswer = Socks5TestClient.ReadExactlyAsync(third, 2, cts.Token);

                // The accept loop logs that it paused at the cap, then waits for a slot: while the two sessions hold
                // theirs, it cannot accept the third client, so no answer can have come (no time window involved).
                await PollAsync(() => log.Messages(AtCapacityEvent).Count > 0, cts.Token);
                proxy.ActiveConnections.Should().Be(2);
                greetingAnswer.IsCompleted.Should().BeFalse("the proxy is at its cap and must not accept the third client yet");

                first.Dispose();
                (await greetingAnswer).Should().Equal(0x05, 0x02);
                await third.SendAsync(Socks5TestClient.Auth(proxy.Username, proxy.Password), cts.Token);
                (await Socks5TestClient.ReadExactlyAsync(third, 2, cts.Token)).Should().Equal(0x01, 0x00);
                await third.SendAsync(Socks5TestClient.Request(0x01, target), cts.Token);
                (await Socks5TestClient.ReadReplyAsync(third, cts.Token))[1].Should().Be(0x00);
                await third.SendAsync("ping"u8.ToArray(), cts.Token);
                (await Socks5TestClient.ReadExactlyAsync(third, 4, cts.Token)).Should().Equal("ping"u8.ToArray());
            }

            await PollAsync(() => proxy.ActiveConnections == 0, cts.Token);
            await stopServer.CancelAsync();
            await server;
        }
    }

    [Fact]
    public async Task Dispose_StopsAccepting_SplicedConnectionsFinishOnTheirOwn_AndNothingRemains()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(7, cts.Token);
            using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var server = OverlayServers.ServeEchoAsync(listener, stopServer.Token);
            var proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);
            var (spliced, reply) = await Socks5TestClient.ConnectThroughAsync(proxy, new IPEndPoint(B4.Address, 7), cts.Token);
            reply[1].Should().Be(0x00);
            var negotiating = await Socks5TestClient.ConnectAsync(proxy, cts.Token);
            await PollAsync(() => proxy.ActiveConnections == 2, cts.Token);

            await proxy.DisposeAsync();
            await proxy.DisposeAsync(); // idempotent

            // No longer accepting: a new connection is refused by the host.
            using (var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                var connect = async () => await late.ConnectAsync(proxy.EndPoint, cts.Token);
                (await connect.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
            }

            // The connection that was still negotiating is closed; the spliced one keeps working.
            using (negotiating)
            {
                (await Socks5TestClient.ReadUntilClosedAsync(negotiating, Socks5TestClient.Step, cts.Token)).Should().BeEmpty();
            }

            using (spliced)
            {
                await spliced.SendAsync("still here"u8.ToArray(), cts.Token);
                (await Socks5TestClient.ReadExactlyAsync(spliced, 10, cts.Token)).Should().Equal("still here"u8.ToArray());
            }

            await PollAsync(() => proxy.ActiveConnections == 0, cts.Token);
            await proxy.Completion.WaitAsync(Socks5TestClient.Step, cts.Token);
            await stopServer.CancelAsync();
            await server;
        }
    }

    [Fact]
    public async Task NodeDisposal_EndsSplicedConnections()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(7, cts.Token);
            using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var server = OverlayServers.ServeEchoAsync(listener, stopServer.Token);
            LoopbackProxy proxy;
            Socket spliced;
            await using (a)
            {
                proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);
                (spliced, var reply) = await Socks5TestClient.ConnectThroughAsync(proxy, new IPEndPoint(B4.Address, 7), cts.Token);
                reply[1].Should().Be(0x00);
            }

            using (spliced)
            {
                await Socks5TestClient.ReadUntilClosedAsync(spliced, Socks5TestClient.Step, cts.Token);
            }

            proxy.Completion.IsCompleted.Should().BeTrue("the node waits for the proxy it started when it stops");
            proxy.ActiveConnections.Should().Be(0);
            await proxy.DisposeAsync();
            await stopServer.CancelAsync();
            await server;
        }
    }

    internal static async Task PollAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Socks5TestClient.Step;
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within the step bound");
            await Task.Delay(10, cancellationToken);
        }

        condition().Should().BeTrue();
    }

    private static async Task<byte[]> SendAndReceiveAsync(Socket udp, IPEndPoint relay, byte[] datagram, CancellationToken cancellationToken)
    {
        // UDP may lose a datagram in the first moments of a path; retry a bounded number of times.
        var buffer = new byte[2048];
        for (var attempt = 0; ; attempt++)
        {
            await udp.SendToAsync(datagram, relay, cancellationToken);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                var received = await udp.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), wait.Token);
                return buffer[..received.ReceivedBytes];
            }
            catch (OperationCanceledException) when (attempt < 4 && !cancellationToken.IsCancellationRequested)
            {
            }
        }
    }
}
