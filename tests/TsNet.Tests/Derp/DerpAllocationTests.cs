using TsNet.Derp;
using Xunit.Abstractions;

namespace TsNet.Tests.Derp;

/// <summary>Alone in the process: allocations are counted process-wide, so no other test may run meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DerpAllocationCollection
{
    public const string Name = "DERP allocations";
}

/// <summary>The DERP client's per-packet paths allocate nothing: TrySend, the send queue and writer, the reader.</summary>
[Collection(DerpAllocationCollection.Name)]
public sealed class DerpAllocationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TrySend_AllocatesNothing_InSteadyState()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient(queueCapacity: 1024);
        await using var b = new DerpTestClient();
        a.Set.SetDerpMap(server.Map());
        b.Set.SetDerpMap(server.Map());
        a.Set.SetHomeRegion(1);
        b.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(1) && server.IsConnected(b.PublicKey), cts.Token, "connected");

        // Warm the pool beyond one round's need and the queue's storage, then measure only the TrySend calls.
        var warm = Enumerable.Range(0, 300).Select(_ => a.Pool.Rent()).ToList();
        warm.ForEach(buffer => buffer.Return());
        var packet = new byte[1200];
        var key = b.PublicKey;
        long allocated = 0;
        for (var round = 0; round < 8; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 200; i++)
            {
                a.Set.TrySend(1, key, packet);
            }

            if (round >= 3)
            {
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            }

            for (var i = 0; i < 200; i++)
            {
                await b.ReceiveAsync(cts.Token);
            }
        }

        allocated.Should().Be(0);
        a.Set.SendDrops.Should().Be(0);
    }

    [Fact]
    public async Task Receiving_AllocatesNothingPerPacket()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        a.Set.SetDerpMap(server.Map());
        a.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(1) && server.IsConnected(a.PublicKey), cts.Token, "connected");

        // 64 RecvPacket frames of 1200 bytes per write, from a fixed source key.
        const int PerWrite = 64;
        const int PacketSize = 1200;
        var frames = new byte[PerWrite * (5 + 32 + PacketSize)];
        for (var i = 0; i < PerWrite; i++)
        {
            var frame = frames.AsSpan(i * (5 + 32 + PacketSize), 5 + 32 + PacketSize);
            DerpFrameHeader.Write(frame, DerpFrameType.RecvPacket, 32 + PacketSize);
            frame[5..37].Fill(0xab);
        }

        // Blast, let everything land in the inbound queue, then drain: the test does not wait per packet. A round
        // stays under the pool's 1 024 kept buffers, so returned buffers are all reused.
        async Task<long> ReceiveAsync(int writes)
        {
            await server.BlastAsync(a.PublicKey, frames, writes);
            var expected = writes * PerWrite;
            var reader = a.Inbound.Reader;
            await DerpTestClient.WaitUntilAsync(() => reader.Count == expected, cts.Token, "all queued");
            while (reader.TryRead(out var datagram))
            {
                datagram.Buffer.Return();
            }

            return expected;
        }

        await ReceiveAsync(15);
        var (perPacket, windows) = await ProcessAllocations.PerOperationAsync(3, async () =>
        {
            long count = 0;
            for (var round = 0; round < 20; round++)
            {
                count += await ReceiveAsync(15);
            }

            return count;
        });

        // Process-wide, so the in-process server's TLS writes and the test's polling count too: amortized they stay
        // a few bytes per packet; any object allocated per packet would add 24+ bytes each, in every window.
        output.WriteLine($"receiving: {ProcessAllocations.Describe(windows)} bytes per packet");
        perPacket.Should().BeLessThan(20, $"the least of 3 windows of {20 * 15 * PerWrite} packets allocated {perPacket:F1} bytes each ({ProcessAllocations.Describe(windows)})");
        a.Set.InboundDrops.Should().Be(0);
    }

    [Fact]
    public async Task Sending_AllocatesNothingPerPacket_AcrossQueueAndWriter()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient(queueCapacity: 1024);
        a.Set.SetDerpMap(server.Map());
        a.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(1) && server.IsConnected(a.PublicKey), cts.Token, "connected");
        server.Sink = true;
        var packet = new byte[1200];
        var destination = new byte[32];
        var sent = 0;

        // Paced like dataplane turns: 8 packets, then the writer catches up (so its waits are counted too). The test
        // waits by spinning: an async wait would allocate more than the code under test.
        void Send(int packets)
        {
            for (var i = 0; i < packets; i++)
            {
                // No assertion library per packet: it allocates.
                if (!a.Set.TrySend(1, destination, packet))
                {
                    throw new InvalidOperationException("TrySend refused");
                }

                if (i % 8 == 7 || i == packets - 1)
                {
                    SpinUntilSunk(server, sent + i + 1);
                }
            }

            sent += packets;
        }

        Send(400);
        var (perPacket, windows) = ProcessAllocations.PerOperation(3, 4000, Send);

        // Process-wide (the in-process server's TLS reads count too); any object allocated per packet would add 24+
        // bytes each, in every window.
        output.WriteLine($"sending: {ProcessAllocations.Describe(windows)} bytes per packet");
        perPacket.Should().BeLessThan(20, $"the least of 3 windows of 4000 packets allocated {perPacket:F1} bytes each ({ProcessAllocations.Describe(windows)})");
        a.Set.SendDrops.Should().Be(0);
    }

    private static void SpinUntilSunk(DerpTestServer server, int count)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (Volatile.Read(ref server.SunkPackets) < count)
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > Bound)
            {
                throw new TimeoutException($"the server got {Volatile.Read(ref server.SunkPackets)} of {count} packets");
            }

            spin.SpinOnce();
        }
    }
}
