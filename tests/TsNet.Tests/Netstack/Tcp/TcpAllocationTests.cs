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

    [Fact]
    public void SteadyStateWithReordering_SackRackAndReassembly_AllocateNothing()
    {
        // Every tenth segment is delivered three places late: out-of-order storage, SACK blocks, RACK's records, the
        // reorder timer and (when the window outgrows the reordering) D-SACK undo all run, and rent from pools only.
        var config = new TcpConfig { SendBufferSize = 256 * 1024, MaxSendBufferSize = 256 * 1024, ReceiveBufferSize = 256 * 1024, MaxReceiveBufferSize = 256 * 1024 };
        var endpoints = new TcpEndpoints(TcpAddress.FromBytes([10, 0, 0, 1]), 1000, TcpAddress.FromBytes([10, 0, 0, 2]), 2000);
        var client = TcpConnection.Connect(endpoints, config, new SeqNum(1), 0);
        var wires = new byte[256][];
        for (int i = 0; i < wires.Length; i++)
        {
            wires[i] = new byte[1500];
        }

        var lengths = new int[wires.Length];
        var wire = new byte[1500];
        var data = new byte[64 * 1024];
        var sink = new byte[64 * 1024];
        long now = 0;

        client.TryGetSegment(wire, out int length, now).Should().BeTrue();
        TcpHeader.TryParse(wire.AsSpan(0, length), out var syn, out _).Should().BeTrue();
        var server = TcpConnection.Accept(endpoints.Reversed(), config, new SeqNum(2), syn, now);

        void Deliver(TcpConnection to, byte[] bytes, int n)
        {
            TcpHeader.TryParse(bytes.AsSpan(0, n), out var h, out var payload);
            to.OnSegment(h, payload, now);
        }

        long Pump(int rounds)
        {
            long moved = 0;
            for (int round = 0; round < rounds; round++)
            {
                now += TimeSpan.TicksPerMillisecond;
                client.Write(data);
                client.Poll(now);
                int count = 0;
                while (count < wires.Length && client.TryGetSegment(wires[count], out lengths[count], now))
                {
                    count++;
                }

                for (int i = 0; i < count; i++)
                {
                    int late = i % 10 == 0 && i + 3 < count ? i + 3 : i; // segment i swaps with i + 3
                    int index = i % 10 == 3 && i >= 3 ? i - 3 : late;
                    Deliver(server, wires[index], lengths[index]);
                }

                moved += server.Read(sink);
                server.Poll(now);
                while (server.TryGetSegment(wire, out int n, now))
                {
                    Deliver(client, wire, n);
                }
            }

            return moved;
        }

        Pump(300);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long moved = Pump(200);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        moved.Should().BeGreaterThan(1024 * 1024);
        server.Counters.OutOfOrderSegments.Should().BeGreaterThan(100);
        client.RackEnabled.Should().BeTrue();
        allocated.Should().Be(0);
    }
}
