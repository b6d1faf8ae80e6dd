using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Socks5;

namespace TsNet.Tests.Facade;

/// <summary>Dials to an address no peer routes fail at once and name the address (issue 15).</summary>
public sealed class UnroutedDialTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>"At once": far below any TCP or ping timeout, with room for a loaded machine.</summary>
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("10.9.9.9:80", "no peer routes 10.9.9.9")]
    [InlineData("[fd00::9]:80", "no peer routes fd00::9")]
    public async Task ConnectTcp_ToUnroutedAddress_FailsAtOnce_NamingTheAddress(string target, string expected)
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var watch = Stopwatch.StartNew();
            var act = async () => await a.ConnectTcpAsync(target, cts.Token);
            var error = (await act.Should().ThrowAsync<SocketException>()).Which;
            watch.Elapsed.Should().BeLessThan(AtOnce);
            error.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable);
            error.Message.Should().StartWith(expected);
        }
    }

    [Fact]
    public async Task UdpSendAndPing_ToUnroutedAddress_FailAtOnce_NamingTheAddress()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var socket = await a.BindUdpAsync(0, cts.Token);
            var send = async () => await socket.SendToAsync(new byte[] { 1 }, new IPEndPoint(IPAddress.Parse("10.9.9.9"), 53), cts.Token);
            (await send.Should().ThrowAsync<SocketException>()).Which.Message.Should().StartWith("no peer routes 10.9.9.9");

            var watch = Stopwatch.StartNew();
            var ping = async () => await a.PingAsync(IPAddress.Parse("10.9.9.9"), TimeSpan.FromSeconds(30), cts.Token);
            (await ping.Should().ThrowAsync<SocketException>()).Which.Message.Should().StartWith("no peer routes 10.9.9.9");
            watch.Elapsed.Should().BeLessThan(AtOnce);

            // The peer's own address still goes through: the check only refuses what no peer routes.
            await socket.SendToAsync(new byte[] { 1 }, new IPEndPoint(IPAddress.Parse("100.64.0.2"), 53), cts.Token);
        }
    }

    [Fact]
    public async Task Socks5Connect_ToUnroutedAddress_AnswersHostUnreachableAtOnce()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var proxy = await a.StartLoopbackProxyAsync(cancellationToken: cts.Token);
            var watch = Stopwatch.StartNew();
            var (socket, reply) = await Socks5TestClient.ConnectThroughAsync(proxy, new IPEndPoint(IPAddress.Parse("10.9.9.9"), 80), cts.Token);
            using (socket)
            {
                reply[1].Should().Be(0x04, "RFC 1928 host unreachable: the overlay has no route to that host");
                watch.Elapsed.Should().BeLessThan(AtOnce);
            }
        }
    }
}
