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
}
