using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Publishing;

/// <summary>Published UDP ports between two in-process nodes: relaying both ways, sessions per sender, cap and idle expiry.</summary>
public sealed class PublishUdpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReplyWait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task HostToTailnet_HostClientsReachOverlayEcho_EachWithItsOwnSession()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        await using var echo = await pair.B.BindUdpAsync(5353, cts.Token);
        var senders = new List<IPEndPoint>();
        var echoLoop = RunOverlayEchoAsync(echo, senders, cts.Token);

        await using var publication = await pair.A.PublishAsync([PortMapping.ParseForward("udp:127.0.0.1:0=100.64.0.2:5353")], cts.Token);
        var port = publication.Ports[0];
        using var first = HostClient();
        using var second = HostClient();

        foreach (var size in new[] { 1, 100, 1000, 1252 })
        {
            var payload = PublishTcpTests.RandomBytes(size, seed: size);
            (await ExchangeAsync(first, port.EndPoint, payload, cts.Token)).Should().Equal(payload, $"a {size}-byte datagram comes back unchanged");
        }

        var other = PublishTcpTests.RandomBytes(700, seed: 9);
        (await ExchangeAsync(second, port.EndPoint, other, cts.Token)).Should().Equal(other);

        port.ActiveSessions.Should().Be(2, "one session per host sender");
        port.TotalSessions.Should().Be(2);
        lock (senders)
        {
            senders.Should().OnlyContain(s => s.Address.Equals(NodePair.AddressA));
            senders.Select(s => s.Port).Distinct().Should().HaveCount(2, "each session has its own overlay socket");
        }

        await cts.CancelAsync();
        await echoLoop;
    }

    [Fact]
    public async Task TailnetToHost_OverlayClientReachesHostEcho()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        using var hostEcho = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        hostEcho.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var hostSenders = new List<IPEndPoint>();
        var echoLoop = RunHostEchoAsync(hostEcho, hostSenders, cts.Token);

        await using var publication = await pair.B.PublishAsync(
            [PortMapping.TailnetToHost(PortProtocol.Udp, 5354, (IPEndPoint)hostEcho.LocalEndPoint!)], cts.Token);
        publication.Ports[0].EndPoint.Should().Be(new IPEndPoint(NodePair.AddressB, 5354));
        await using var client = await pair.A.BindUdpAsync(0, cts.Token);
        var published = new IPEndPoint(NodePair.AddressB, 5354);
        var buffer = new byte[2048];

        foreach (var size in new[] { 1, 512, 1252 })
        {
            var payload = PublishTcpTests.RandomBytes(size, seed: 100 + size);
            await client.SendToAsync(payload, published, cts.Token);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            wait.CancelAfter(ReplyWait);
            var received = await client.ReceiveFromAsync(buffer, wait.Token);
            received.RemoteEndPoint.Should().Be(published, "answers come from the published overlay port");
            buffer.AsSpan(0, received.ReceivedBytes).ToArray().Should().Equal(payload);
        }

        publication.Ports[0].ActiveSessions.Should().Be(1);
        lock (hostSenders)
        {
            hostSenders.Should().HaveCount(3);
            hostSenders.Should().OnlyContain(s => s.Equals(hostSenders[0]), "one session, one host socket");
            hostSenders[0].Address.Should().Be(IPAddress.Loopback);
        }

        await cts.CancelAsync();
        await echoLoop;
    }

    [Fact]
    public async Task SessionCap_DropsAndCounts_IdleExpiry_FollowsTheClock()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token, limitsOfA: new TailnetLimits { PublishedUdpMaxSessions = 2, PublishedUdpSessionIdle = TimeSpan.FromSeconds(60) });
        await using var echo = await pair.B.BindUdpAsync(5355, cts.Token);
        var echoLoop = RunOverlayEchoAsync(echo, new List<IPEndPoint>(), cts.Token);
        var clock = new ManualTimeProvider();

        await using var publication = await pair.A.PublishWithClockAsync([PortMapping.ParseForward("udp:127.0.0.1:0=100.64.0.2:5355")], clock, cts.Token);
        var port = publication.Ports[0];
        using var c1 = HostClient();
        using var c2 = HostClient();
        using var c3 = HostClient();
        var ping = "ping"u8.ToArray();

        (await ExchangeAsync(c1, port.EndPoint, ping, cts.Token)).Should().Equal(ping);
        (await ExchangeAsync(c2, port.EndPoint, ping, cts.Token)).Should().Equal(ping);

        // A third sender is over the cap: its datagram is dropped (and counted), no answer comes.
        await c3.SendToAsync(ping, SocketFlags.None, port.EndPoint, cts.Token);
        (await NodePair.EventuallyAsync(() => port.DroppedDatagrams == 1, TimeSpan.FromSeconds(10))).Should().BeTrue();
        port.ActiveSessions.Should().Be(2);

        // 59 s of silence: still alive (sweeps ran at 15, 30, 45 s).
        clock.Advance(TimeSpan.FromSeconds(59));
        port.ExpiredSessions.Should().Be(0);
        port.ActiveSessions.Should().Be(2);

        // c1 speaks at 59 s; at 61 s only c2 has been idle for 60 s.
        (await ExchangeAsync(c1, port.EndPoint, ping, cts.Token)).Should().Equal(ping);
        clock.Advance(TimeSpan.FromSeconds(2));
        port.ExpiredSessions.Should().Be(1, "the sweep at 60 s expires c2, idle since 0 s");
        (await NodePair.EventuallyAsync(() => port.ActiveSessions == 1, TimeSpan.FromSeconds(10))).Should().BeTrue("c2's session closed");

        // Room again: c3 gets a session now.
        (await ExchangeAsync(c3, port.EndPoint, ping, cts.Token)).Should().Equal(ping);
        port.ActiveSessions.Should().Be(2);
        port.TotalSessions.Should().Be(3);

        // c1 idle since 59 s, c3 since 61 s: both gone by 121 s + one sweep period.
        clock.Advance(TimeSpan.FromSeconds(75));
        port.ExpiredSessions.Should().Be(3);
        (await NodePair.EventuallyAsync(() => port.ActiveSessions == 0, TimeSpan.FromSeconds(10))).Should().BeTrue();
        port.DroppedDatagrams.Should().Be(1);
        publication.OpenSockets.Should().Be(1, "only the published socket remains once the sessions are gone");

        await cts.CancelAsync();
        await echoLoop;
    }

    internal static Socket HostClient()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>Sends <paramref name="payload"/> from <paramref name="client"/> and waits for one answer (from <paramref name="to"/>).</summary>
    internal static async Task<byte[]> ExchangeAsync(Socket client, IPEndPoint to, byte[] payload, CancellationToken cancellationToken)
    {
        await client.SendToAsync(payload, SocketFlags.None, to, cancellationToken);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(ReplyWait);
        var buffer = new byte[65536];
        var received = await client.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), wait.Token);
        received.RemoteEndPoint.Should().Be(to, "answers come from the published host port");
        return buffer.AsSpan(0, received.ReceivedBytes).ToArray();
    }

    internal static Task RunOverlayEchoAsync(TailnetUdpSocket socket, List<IPEndPoint> senders, CancellationToken cancellationToken) => Task.Run(
        async () =>
        {
            var buffer = new byte[2048];
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveFromAsync(buffer, cancellationToken);
                    var from = (IPEndPoint)received.RemoteEndPoint;
                    lock (senders)
                    {
                        senders.Add(new IPEndPoint(from.Address, from.Port));
                    }

                    await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), from, cancellationToken);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                // Test over.
            }
        },
        CancellationToken.None);

    internal static Task RunHostEchoAsync(Socket socket, List<IPEndPoint> senders, CancellationToken cancellationToken) => Task.Run(
        async () =>
        {
            var buffer = new byte[65536];
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
                    lock (senders)
                    {
                        senders.Add((IPEndPoint)received.RemoteEndPoint);
                    }

                    await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), SocketFlags.None, received.RemoteEndPoint, cancellationToken);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                // Test over.
            }
        },
        CancellationToken.None);
}
