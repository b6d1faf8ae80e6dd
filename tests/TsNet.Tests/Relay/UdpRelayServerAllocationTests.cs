using System.Net;
using System.Net.Sockets;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Relay;

/// <summary>
/// The server's per-datagram send path allocates nothing: <see cref="RelayFuzzTests"/> covers the core's handling,
/// this covers what the receive loop does with a Forward or Reply outcome (choose the socket, send).
/// </summary>
public sealed class UdpRelayServerAllocationTests
{
    [Fact]
    public async Task Send_ThousandForwards_AllocateLessThanOneKiB()
    {
        await using var server = await UdpRelayServer.StartAsync(new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } });
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var destination = UnderlayAddress.FromIPEndPoint((IPEndPoint)receiver.LocalEndPoint!);
        var noSocket = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("[::1]:9"));
        var sendV4 = new SocketAddress(AddressFamily.InterNetwork);
        var sendV6 = new SocketAddress(AddressFamily.InterNetworkV6);
        var datagram = new byte[64];

        // Warm-up: JIT and the socket's first send.
        server.Send(destination, datagram, sendV4, sendV6);
        server.Send(noSocket, datagram, sendV4, sendV6);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            server.Send(destination, datagram, sendV4, sendV6);
            server.Send(noSocket, datagram, sendV4, sendV6); // an IPv6 destination: no socket of that family here
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().BeLessThan(1024, "choosing the socket and sending must not allocate per datagram");
        server.GetCounters().SendFailures.Should().Be(1001, "the IPv6 destinations found no socket and were counted");
        receiver.Available.Should().BeGreaterThan(0, "the IPv4 datagrams were sent");
    }

    [Fact]
    public async Task Send_RefusedByTheKernel_IsCountedWithoutAllocating()
    {
        await using var server = await UdpRelayServer.StartAsync(new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } });
        var destination = UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 9));
        var sendV4 = new SocketAddress(AddressFamily.InterNetwork);
        var sendV6 = new SocketAddress(AddressFamily.InterNetworkV6);
        var tooLarge = new byte[70_000]; // EMSGSIZE, as a full socket buffer's EAGAIN would be under congestion
        server.Send(destination, tooLarge, sendV4, sendV6);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            server.Send(destination, tooLarge, sendV4, sendV6);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0, "a refused send is an error code, not a thrown SocketException");
        server.GetCounters().SendFailures.Should().Be(1001);
    }
}
