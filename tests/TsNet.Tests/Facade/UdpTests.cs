using System.Net;
using System.Net.Sockets;
using System.Text;
using TsNet.Underlay;

namespace TsNet.Tests.Facade;

/// <summary>UDP sockets end to end: two nodes in one process on an in-memory underlay hub.</summary>
public sealed class UdpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);
    private static readonly IPAddress A4 = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress A6 = IPAddress.Parse("fd7a:115c:a1e0::1");
    private static readonly IPAddress B4 = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress B6 = IPAddress.Parse("fd7a:115c:a1e0::2");

    private static TailnetServerOptions Options(IPAddress v4, IPAddress v6, InMemoryUnderlayHub? hub = null) =>
        new()
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { new IPNetwork(v4, 32), new IPNetwork(v6, 128) },
            TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub ?? new InMemoryUnderlayHub(TimeProvider.System) },
        };

    private static TailnetPeer PeerOf(TailnetServer node, IPAddress v4, IPAddress v6, int? port) => new()
    {
        PublicKey = node.PublicKey,
        Endpoint = port is { } p ? "127.0.0.1:" + p : null,
        AllowedIps = { new IPNetwork(v4, 32), new IPNetwork(v6, 128) },
    };

    /// <summary>Two started nodes that have completed a handshake (a ping got through), so datagrams are not lost to
    /// peers still being applied.</summary>
    private static async Task<(TailnetServer A, TailnetServer B)> StartPairAsync(CancellationToken cancellationToken)
    {
        var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var a = new TailnetServer(Options(A4, A6, hub));
        var b = new TailnetServer(Options(B4, B6, hub));
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        a.AddOrUpdatePeer(PeerOf(b, B4, B6, b.ListenPort));
        b.AddOrUpdatePeer(PeerOf(a, A4, A6, null));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await a.PingAsync(B4, TimeSpan.FromSeconds(2), cancellationToken);
                break;
            }
            catch (TimeoutException) when (attempt < 5)
            {
            }
        }

        return (a, b);
    }

    private static async Task<(string Text, IPEndPoint From)> ReceiveTextAsync(TailnetUdpSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        var result = await socket.ReceiveFromAsync(buffer, cancellationToken).AsTask().WaitAsync(Step, cancellationToken);
        return (Encoding.UTF8.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
    }

    private static async Task WaitUntil(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    [Fact]
    public async Task Echo_BothDirections_OverIpv4AndIpv6()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var echoA = await a.BindUdpAsync(7, cts.Token);
            await using var echoB = await b.BindUdpAsync(7, cts.Token);
            echoA.LocalEndPoint.Should().Be(new IPEndPoint(A4, 7), "a socket on every address reports the IPv4 one");

            // A tiny echo server on each node.
            var servers = new[] { echoA, echoB }.Select(socket => Task.Run(async () =>
            {
                var buffer = new byte[2048];
                while (true)
                {
                    SocketReceiveFromResult request;
                    try
                    {
                        request = await socket.ReceiveFromAsync(buffer, cts.Token);
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }

                    await socket.SendToAsync(buffer.AsMemory(0, request.ReceivedBytes), request.RemoteEndPoint as IPEndPoint ?? throw new InvalidOperationException(), cts.Token);
                }
            })).ToList();

            await using var clientA = await a.BindUdpAsync(0, cts.Token);
            await using var clientB = await b.BindUdpAsync(0, cts.Token);
            clientA.LocalEndPoint.Address.Should().Be(A4);
            clientA.LocalEndPoint.Port.Should().BeInRange(49152, 65535);

            foreach (var (client, target, self) in new[] { (clientA, B4, A4), (clientA, B6, A6), (clientB, A4, B4), (clientB, A6, B6) })
            {
                var message = $"hello {target} from {self}";
                (await client.SendToAsync(Encoding.UTF8.GetBytes(message), new IPEndPoint(target, 7), cts.Token)).Should().Be(Encoding.UTF8.GetByteCount(message));
                var (echo, from) = await ReceiveTextAsync(client, cts.Token);
                echo.Should().Be(message);
                from.Should().Be(new IPEndPoint(target, 7));
            }

            // The largest datagram that fits the MTU makes it through.
            var big = Enumerable.Range(0, 1252).Select(i => (byte)i).ToArray();
            await clientA.SendToAsync(big, new IPEndPoint(B4, 7), cts.Token);
            var bigBuffer = new byte[2048];
            var result = await clientA.ReceiveFromAsync(bigBuffer, cts.Token).AsTask().WaitAsync(Step, cts.Token);
            bigBuffer.AsSpan(0, result.ReceivedBytes).ToArray().Should().Equal(big);

            await echoA.DisposeAsync();
            await echoB.DisposeAsync();
            await Task.WhenAll(servers).WaitAsync(Step, cts.Token);
        }
    }

    [Fact]
    public async Task Oversized_IsRefused_AndPortZeroDestinationToo()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = new TailnetServer(Options(A4, A6));
        await node.StartAsync(cts.Token);
        await using var socket = await node.BindUdpAsync(0, cts.Token);
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1253], new IPEndPoint(B4, 7), cts.Token))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*1252*");
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1233], new IPEndPoint(B6, 7), cts.Token))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*1232*");
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(B4, 0), cts.Token))
            .Should().ThrowAsync<ArgumentException>();
        // The largest that fits goes out (to the node's own address: this node has no peer to route B6).
        (await socket.SendToAsync(new byte[1232], new IPEndPoint(A6, 7), cts.Token)).Should().Be(1232);
    }

    [Fact]
    public async Task Bind_Errors()
    {
        using var cts = new CancellationTokenSource(Bound);
        var node = new TailnetServer(Options(A4, A6));
        await FluentActions.Awaiting(async () => await node.BindUdpAsync(7, cts.Token)).Should().ThrowAsync<InvalidOperationException>("not started");
        await node.StartAsync(cts.Token);

        await using (var first = await node.BindUdpAsync(5353, cts.Token))
        {
            (await FluentActions.Awaiting(async () => await node.BindUdpAsync(5353, cts.Token)).Should().ThrowAsync<SocketException>())
                .Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
            await FluentActions.Awaiting(async () => await node.BindUdpAsync(65536, cts.Token)).Should().ThrowAsync<ArgumentOutOfRangeException>();
            await FluentActions.Awaiting(async () => await node.BindUdpAsync(-1, cts.Token)).Should().ThrowAsync<ArgumentOutOfRangeException>();
        }

        await using (var again = await node.BindUdpAsync(5353, cts.Token))
        {
            again.LocalEndPoint.Port.Should().Be(5353, "disposing a socket frees its port");
        }

        await node.DisposeAsync();
        await FluentActions.Awaiting(async () => await node.BindUdpAsync(7, cts.Token)).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task OnlyIpv6Node_ReportsItsIpv6Address()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { new IPNetwork(A6, 128) },
        });
        await node.StartAsync(cts.Token);
        await using var socket = await node.BindUdpAsync(53, cts.Token);
        socket.LocalEndPoint.Should().Be(new IPEndPoint(A6, 53));
        (await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(B4, 53), cts.Token)).Should().ThrowAsync<SocketException>())
            .Which.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable);
    }

    [Fact]
    public async Task CancelledReceive_DoesNotLoseTheNextDatagram()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var server = await b.BindUdpAsync(9000, cts.Token);
            await using var client = await a.BindUdpAsync(0, cts.Token);

            using (var receiveCts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
            {
                await FluentActions.Awaiting(async () => await server.ReceiveFromAsync(new byte[64], receiveCts.Token))
                    .Should().ThrowAsync<OperationCanceledException>();
            }

            using (var cancelled = new CancellationTokenSource())
            {
                await cancelled.CancelAsync();
                await FluentActions.Awaiting(async () => await server.ReceiveFromAsync(new byte[64], cancelled.Token))
                    .Should().ThrowAsync<OperationCanceledException>();
                await FluentActions.Awaiting(async () => await client.SendToAsync(new byte[1], new IPEndPoint(B4, 9000), cancelled.Token))
                    .Should().ThrowAsync<OperationCanceledException>();
                await FluentActions.Awaiting(async () => await b.BindUdpAsync(9001, cancelled.Token))
                    .Should().ThrowAsync<OperationCanceledException>();
            }

            await client.SendToAsync("after cancel"u8.ToArray(), new IPEndPoint(B4, 9000), cts.Token);
            var (text, from) = await ReceiveTextAsync(server, cts.Token);
            text.Should().Be("after cancel");
            from.Should().Be(new IPEndPoint(A4, client.LocalEndPoint.Port));

            // The cancelled bind left nothing behind.
            await using var bound = await b.BindUdpAsync(9001, cts.Token);
        }
    }

    [Fact]
    public async Task Dispose_CompletesPendingReceives_IsIdempotent_AndDisposingTheNodeDisposesItsSockets()
    {
        using var cts = new CancellationTokenSource(Bound);
        var node = new TailnetServer(Options(A4, A6));
        await node.StartAsync(cts.Token);

        var socket = await node.BindUdpAsync(7, cts.Token);
        var pending = socket.ReceiveFromAsync(new byte[16], cts.Token).AsTask();
        await socket.DisposeAsync();
        await socket.DisposeAsync();
        await FluentActions.Awaiting(() => pending.WaitAsync(Step, cts.Token)).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await socket.ReceiveFromAsync(new byte[16], cts.Token)).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(B4, 7), cts.Token)).Should().ThrowAsync<ObjectDisposedException>();

        var survivor = await node.BindUdpAsync(8, cts.Token);
        var waiting = survivor.ReceiveFromAsync(new byte[16], cts.Token).AsTask();
        await node.DisposeAsync();
        (await FluentActions.Awaiting(() => waiting.WaitAsync(Step, cts.Token)).Should().ThrowAsync<ObjectDisposedException>())
            .Which.ObjectName.Should().Be("TsNet.TailnetUdpSocket");
        await FluentActions.Awaiting(async () => await survivor.SendToAsync(new byte[1], new IPEndPoint(B4, 7), cts.Token)).Should().ThrowAsync<ObjectDisposedException>();
        await survivor.DisposeAsync().AsTask().WaitAsync(Step, cts.Token);
    }

    [Fact]
    public async Task ClosedPort_TheSendersNodeCountsAnIcmpPortUnreachable()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var client = await a.BindUdpAsync(0, cts.Token);
            await client.SendToAsync("anyone?"u8.ToArray(), new IPEndPoint(B4, 9999), cts.Token);
            await client.SendToAsync("anyone?"u8.ToArray(), new IPEndPoint(B6, 9999), cts.Token);

            await WaitUntil(() => a.Netstack.IcmpErrorCounters.PortUnreachableReceived == 2, cts.Token);
            client.Handle.State.PortUnreachableReceived.Should().Be(2);
            b.Netstack.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(2);

            // Not an error for the socket: it still sends and receives.
            await using var server = await b.BindUdpAsync(9999, cts.Token);
            await client.SendToAsync("now?"u8.ToArray(), new IPEndPoint(B4, 9999), cts.Token);
            (await ReceiveTextAsync(server, cts.Token)).Text.Should().Be("now?");
        }
    }
}
