using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Dataplane;

/// <summary>The seam costs no allocation per datagram: sending through the relay layer into UDP with GSO batching.</summary>
public sealed class UnderlayAllocationTests
{
    [Fact]
    public async Task SendingThroughTheRelayLayerIntoUdp_AllocatesNothingPerDatagram()
    {
        var pool = new PacketBufferPool();
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        await using var udp = UdpUnderlay.Bind(0, pool, inbound.Writer, _ => { }, NullLogger.Instance);
        udp.TryEnableGso(1300).Should().BeTrue();
        await using var layer = new RelayUnderlay(udp, new RelayClientCore(new byte[32], TimeSpan.TicksPerSecond), NullLogger.Instance);
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var destination = UnderlayAddress.FromIPEndPoint((IPEndPoint)receiver.LocalEndPoint!);
        var datagram = pool.Rent();
        datagram.SetLength(1200);

        void SendMany(int count)
        {
            for (var i = 0; i < count; i++)
            {
                layer.Send(destination, datagram);
                if (i % 32 == 31)
                {
                    layer.Flush();
                }
            }

            layer.Flush();
        }

        SendMany(256); // warm-up: JIT, first socket address writes
        var before = GC.GetAllocatedBytesForCurrentThread();
        SendMany(2048);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0, "2048 datagrams in GSO runs of 32 must not allocate");
        datagram.Return();
    }

    [Fact]
    public async Task ASendTheKernelRefuses_IsCountedAsADrop_WithoutAllocating()
    {
        // A datagram larger than UDP allows (EMSGSIZE) stands for every refused send, like a full socket buffer
        // (EAGAIN) under congestion, which a test cannot bring about on demand: dropped and counted, no exception.
        var pool = new PacketBufferPool();
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        await using var udp = UdpUnderlay.Bind(0, pool, inbound.Writer, _ => { }, NullLogger.Instance);
        var destination = UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 9));
        var tooLarge = new byte[70_000];
        udp.SendNow(destination, tooLarge); // warm-up
        var dropsBefore = udp.SendDrops;

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            udp.SendNow(destination, tooLarge);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        (udp.SendDrops - dropsBefore).Should().Be(1000);
        allocated.Should().Be(0, "a refused send is an error code, not a thrown SocketException");
    }

    [Theory]
    [InlineData(11, SocketError.WouldBlock)]
    [InlineData(105, SocketError.NoBufferSpaceAvailable)]
    [InlineData(90, SocketError.MessageSize)]
    [InlineData(101, SocketError.NetworkUnreachable)]
    [InlineData(1, SocketError.AccessDenied)]
    [InlineData(4242, SocketError.SocketError)]
    public void LinuxSendErrors_MapAsDotNetWouldReportThem(int errno, SocketError expected)
    {
        UdpSend.FromErrno(errno).Should().Be(expected);
    }
}
