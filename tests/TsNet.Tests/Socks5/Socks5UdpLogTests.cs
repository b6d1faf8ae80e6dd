using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Publishing;
using TsNet.Tests.Services;

namespace TsNet.Tests.Socks5;

/// <summary>
/// A UDP association drops a stranger's datagrams one by one; the drop's log line is rate-limited per association
/// (one line per 10 s on the node's clock), so a flood of them cannot flood the log.
/// </summary>
public sealed class Socks5UdpLogTests
{
    private const int DatagramDroppedEvent = 3120;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task StrangerFlood_IsLogged_AtMostOncePerInterval()
    {
        using var cts = new CancellationTokenSource(Bound);
        var log = new LogRecorder();
        await using var pair = await NodePair.StartAsync(cts.Token, loggerFactoryOfA: log);
        await using var echoSocket = await pair.B.BindUdpAsync(5353, cts.Token);
        using var stopServer = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var echo = OverlayServers.ServeUdpEchoAsync(echoSocket, stopServer.Token);
        await using var proxy = await pair.A.StartLoopbackProxyAsync(cancellationToken: cts.Token);
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
        var elapsed = Stopwatch.StartNew();
        for (var i = 0; i < 50; i++)
        {
            await stranger.SendToAsync((byte[])[.. header, .. "stranger"u8], relay, cts.Token);
        }

        // The relay socket reads in order: once the client's datagram came back, the stranger's were all handled.
        await client.SendToAsync((byte[])[.. header, .. "client"u8], relay, cts.Token);
        var buffer = new byte[256];
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        wait.CancelAfter(Socks5TestClient.Step);
        var received = await client.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), wait.Token);
        buffer[..received.ReceivedBytes].Should().Equal([.. header, .. "client"u8]);
        elapsed.Stop();

        var lines = log.Messages(DatagramDroppedEvent);
        lines.Should().NotBeEmpty("the first drop is logged").And.AllSatisfy(line => line.Should().Contain("not the associated client"));
        lines.Count.Should().BeLessThanOrEqualTo(
            1 + (int)(elapsed.Elapsed / TimeSpan.FromSeconds(10)),
            "50 drops within {0} are at most one line per 10 s interval", elapsed.Elapsed);

        await stopServer.CancelAsync();
        await echo;
    }
}
