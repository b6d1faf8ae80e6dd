using System.Net;
using System.Net.Sockets;
using System.Text;
using TsNet.Tests.Socks5;

namespace TsNet.Tests.Facade;

/// <summary>Dials of the node's own tailnet address work like loopback, in process (issue 15).</summary>
public sealed class OwnAddressDialTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("100.64.0.1:7000")]
    [InlineData("[fd7a:115c:a1e0::1]:7000")]
    public async Task ConnectTcp_ToOwnAddress_ReachesOwnListener(string target)
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await a.ListenTcpAsync(7000, cts.Token);
            var server = EchoOnceAsync(listener, cts.Token);

            await using var client = await a.ConnectTcpAsync(target, cts.Token);
            var request = Encoding.ASCII.GetBytes("hello self");
            await client.WriteAsync(request, cts.Token);
            await client.ShutdownWriteAsync(cts.Token);
            var reply = new MemoryStream();
            await client.CopyToAsync(reply, cts.Token);

            reply.ToArray().Should().Equal(request);
            (await server).Should().Be(client.LocalEndPoint.ToString());
        }
    }

    [Fact]
    public async Task UdpSend_ToOwnAddress_ReachesOwnSocket()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var receiver = await a.BindUdpAsync(5300, cts.Token);
            await using var sender = await a.BindUdpAsync(0, cts.Token);
            await sender.SendToAsync(Encoding.ASCII.GetBytes("to myself"), new IPEndPoint(IPAddress.Parse("100.64.0.1"), 5300), cts.Token);

            var buffer = new byte[64];
            var result = await receiver.ReceiveFromAsync(buffer, cts.Token);
            Encoding.ASCII.GetString(buffer, 0, result.ReceivedBytes).Should().Be("to myself");
            ((IPEndPoint)result.RemoteEndPoint).Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.1"), sender.LocalEndPoint.Port));
        }
    }

    [Theory]
    [InlineData("100.64.0.1")]
    [InlineData("fd7a:115c:a1e0::1")]
    public async Task Ping_OwnAddress_IsAnswered(string address)
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var rtt = await a.PingAsync(IPAddress.Parse(address), TimeSpan.FromSeconds(10), cts.Token);
            rtt.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero).And.BeLessThan(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Socks5Connect_ToOwnAddress_Succeeds()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await a.ListenTcpAsync(7001, cts.Token);
            var server = EchoOnceAsync(listener, cts.Token);
            await using var proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);

            var (socket, reply) = await Socks5TestClient.ConnectThroughAsync(proxy, new IPEndPoint(IPAddress.Parse("100.64.0.1"), 7001), cts.Token);
            using (socket)
            {
                reply[1].Should().Be(0x00, "CONNECT to the node's own address succeeds");
                await socket.SendAsync(Encoding.ASCII.GetBytes("via socks"), cts.Token);
                socket.Shutdown(SocketShutdown.Send);
                var echoed = await Socks5TestClient.ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(30), cts.Token);
                Encoding.ASCII.GetString(echoed).Should().Be("via socks");
            }

            await server;
        }
    }

    /// <summary>Accepts one connection, echoes it until the client's FIN; returns the client's endpoint.</summary>
    private static async Task<string> EchoOnceAsync(TailnetListener listener, CancellationToken cancellationToken)
    {
        await using var connection = await listener.AcceptAsync(cancellationToken) ?? throw new InvalidOperationException("listener closed");
        await connection.CopyToAsync(connection, cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
        return connection.RemoteEndPoint.ToString();
    }
}
