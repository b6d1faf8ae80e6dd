using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>The steady state allocates nothing per segment: two connections exchange data through one buffer.</summary>
public sealed class TcpAllocationTests
{
    [Fact]
    public void SteadyStateTransfer_AllocatesNothing()
    {
        var config = new TcpConfig { SendBufferSize = 256 * 1024, MaxSendBufferSize = 256 * 1024, ReceiveBufferSize = 256 * 1024, MaxReceiveBufferSize = 256 * 1024 };
        var endpoints = new TcpEndpoints(TcpAddress.FromBytes([10, 0, 0, 1]), 1000, TcpAddress.FromBytes([10, 0, 0, 2]), 2000);
        var reversed = endpoints.Reversed();
        var client = TcpConnection.Connect(endpoints, config, new SeqNum(1), 0);
        var wire = new byte[1500];
        var data = new byte[64 * 1024];
        var sink = new byte[64 * 1024];
        long now = 0;

        client.TryGetSegment(wire, out int length, now).Should().BeTrue();
        TcpHeader.TryParse(wire.AsSpan(0, length), out var syn, out _).Should().BeTrue();
        var server = TcpConnection.Accept(reversed, config, new SeqNum(2), syn, now);

        long Pump(int rounds)
        {
            long moved = 0;
            for (int round = 0; round < rounds; round++)
            {
                now += TimeSpan.TicksPerMillisecond;
                client.Write(data);
                while (client.TryGetSegment(wire, out int n, now))
                {
                    TcpHeader.TryParse(wire.AsSpan(0, n), out var h, out var payload);
                    server.OnSegment(h, payload, now);
                }

                moved += server.Read(sink);
                server.Poll(now);
                while (server.TryGetSegment(wire, out int n, now))
                {
                    TcpHeader.TryParse(wire.AsSpan(0, n), out var h, out var payload);
                    client.OnSegment(h, payload, now);
                }

                client.Poll(now);
            }

            return moved;
        }

        Pump(200); // handshake, slow start, buffers settled
        long before = GC.GetAllocatedBytesForCurrentThread();
        long moved = Pump(200);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        moved.Should().BeGreaterThan(1024 * 1024);
        allocated.Should().Be(0);
    }
}
