using System.Net;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Sockets;

/// <summary>
/// The app-facing channel makes its endpoints from the connection's 4-tuple on first use (idle connections that never
/// ask pay nothing) and hands out the same instance afterwards.
/// </summary>
public sealed class TcpStreamChannelTests
{
    [Theory]
    [InlineData("100.64.0.1", 41000, "100.64.0.2", 80)]
    [InlineData("fd7a:115c:a1e0::1", 50123, "fd7a:115c:a1e0::2", 443)]
    public void Endpoints_come_from_the_connection_and_stay_the_same_instance(string local, int localPort, string remote, int remotePort)
    {
        var endpoints = new TcpEndpoints(TcpAddress.FromIPAddress(IPAddress.Parse(local)), (ushort)localPort, TcpAddress.FromIPAddress(IPAddress.Parse(remote)), (ushort)remotePort);
        var connection = TcpConnection.Connect(endpoints, TcpConfig.Default, new SeqNum(1000), 0);
        var channel = new TcpStreamChannel(connection, _ => { });

        channel.LocalEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse(local), localPort));
        channel.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse(remote), remotePort));
        channel.LocalEndPoint.Should().BeSameAs(channel.LocalEndPoint);
        channel.RemoteEndPoint.Should().BeSameAs(channel.RemoteEndPoint);
    }

    [Fact]
    public void Racing_first_reads_all_get_one_instance()
    {
        var endpoints = new TcpEndpoints(TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.1")), 41000, TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.2")), 80);
        var channel = new TcpStreamChannel(TcpConnection.Connect(endpoints, TcpConfig.Default, new SeqNum(1), 0), _ => { });

        var seen = new IPEndPoint[16];
        Parallel.For(0, seen.Length, i => seen[i] = channel.RemoteEndPoint);

        seen.Should().AllSatisfy(endpoint => endpoint.Should().BeSameAs(seen[0]));
    }
}
