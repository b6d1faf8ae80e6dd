using TsNet.Netstack.Tcp;
using Xunit.Abstractions;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>Tests that measure the whole process's heap: they run alone so no other test moves the figure.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementCollection
{
    public const string Name = "Heap measurement";
}

/// <summary>An idle connection holds no buffers: arrays are rented when bytes arrive and returned once they are gone.</summary>
[Collection(HeapMeasurementCollection.Name)]
public sealed class TcpIdleMemoryTests(ITestOutputHelper output)
{
    private const int Connections = 10_000;

    /// <summary>What an idle ESTABLISHED connection may hold: its objects and small fields, no buffer.</summary>
    private const int MaxRetainedBytesPerConnection = 4 * 1024;

    private static readonly TcpConfig Config = TcpConfig.Default;

    [Fact]
    public void IdleEstablished_AfterExchange_HoldsNoBuffers()
    {
        var h = EstablishedWithExchange();
        h.Connection.State.Should().Be(TcpState.Established);
        h.Connection.PooledBufferBytes.Should().Be(0);
        h.Connection.HoldsRangeStorage.Should().BeFalse();
        h.Connection.UnacknowledgedBytes.Should().Be(0);
        h.Connection.ReadableBytes.Should().Be(0);
    }

    [Fact]
    public void Buffers_RentedWhileBytesHeld_ReturnedWhenEmpty()
    {
        var h = Established(Config);
        h.Connection.PooledBufferBytes.Should().Be(0);

        h.Write(100);
        h.Connection.PooledBufferBytes.Should().BeGreaterThan(0, "unacknowledged bytes need the send array");
        var data = h.SendOneWithPayload();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = data.Header.SequenceNumber + data.Payload.Length });
        h.Connection.PooledBufferBytes.Should().Be(0, "everything was acknowledged");

        // Out-of-order data keeps the receive array even after the in-order bytes are read.
        h.Recv(RecvTemplate, "abc");
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1 + 10 }, "klm");
        h.ReadAll().Should().Equal("abc"u8.ToArray());
        h.Connection.PooledBufferBytes.Should().BeGreaterThan(0);
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1 + 3 }, "defghij");
        h.ReadAll().Should().Equal("defghijklm"u8.ToArray());
        h.Connection.PooledBufferBytes.Should().Be(0);
        h.Connection.HoldsRangeStorage.Should().BeFalse();
    }

    [Fact]
    public void Buffers_GrowBeyondFirstRental_KeepBytesInOrder()
    {
        var h = Established(Config with { SendBufferSize = 256 * 1024, ReceiveBufferSize = 256 * 1024 });
        var pattern = new byte[100 * 1024];
        for (int i = 0; i < pattern.Length; i++)
        {
            pattern[i] = (byte)(i * 7);
        }

        // Receive: out-of-order bytes far beyond the first rental, then the hole.
        var seq = RemoteSeq + 1;
        h.Recv(RecvTemplate with { SequenceNumber = seq + 50_000 }, pattern[50_000..51_000]);
        h.Recv(RecvTemplate with { SequenceNumber = seq + 1000 }, pattern[1000..50_000]);
        h.Recv(RecvTemplate with { SequenceNumber = seq }, pattern[..1000]);
        h.ReadAll().Should().Equal(pattern[..51_000]);

        // Send: a small write, then a large one forces a larger array; the bytes stay in order.
        h.Connection.Write(pattern.AsSpan(0, 10)).Should().Be(10);
        h.Connection.Write(pattern.AsSpan(10)).Should().Be(pattern.Length - 10);
        var sent = new List<byte>();
        foreach (var (_, payload) in h.Send())
        {
            sent.AddRange(payload);
        }

        sent.Should().Equal(pattern[..sent.Count]);
    }

    [Fact]
    public void TenThousandIdleConnections_RetainLittleMemory()
    {
        // Warm up: JIT, pools, statics.
        var warm = new List<TcpConnection>();
        for (int i = 0; i < 100; i++)
        {
            warm.Add(EstablishedWithExchange().Connection);
        }

        var connections = new List<TcpConnection>(Connections);
        long retainedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Connections; i++)
        {
            connections.Add(EstablishedWithExchange().Connection);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long retained = GC.GetTotalMemory(forceFullCollection: true) - retainedBefore;
        long perConnection = retained / Connections;
        output.WriteLine(
            $"{Connections} idle ESTABLISHED connections: retained {retained / 1024} KiB = {perConnection} B per connection; "
            + $"allocated (incl. test harness) {allocated / Connections} B per connection");

        connections.Should().OnlyContain(c => c.State == TcpState.Established && c.PooledBufferBytes == 0 && !c.HoldsRangeStorage);
        perConnection.Should().BeLessThan(MaxRetainedBytesPerConnection);
        GC.KeepAlive(warm);
        GC.KeepAlive(connections);
    }

    /// <summary>Handshake with timestamps, SACK and window scaling, then 100 bytes each way, all read and acknowledged.</summary>
    private static TcpTestHarness EstablishedWithExchange()
    {
        var syn = RemoteSyn with { WindowScale = 7, SackPermitted = true, Timestamps = new TcpTimestamps(1, 0) };
        var h = SynReceived(Config, syn);
        var synAck = h.SendOne();
        var ts = new TcpTimestamps(2, synAck.Timestamps!.Value.Value);
        h.Recv(RecvTemplate with { Timestamps = ts });

        h.Recv(RecvTemplate with { Timestamps = ts }, new byte[100]);
        h.ReadAll();
        h.Write(100);
        var reply = h.SendOneWithPayload();
        h.Recv(RecvTemplate with
        {
            SequenceNumber = RemoteSeq + 101,
            AcknowledgmentNumber = reply.Header.SequenceNumber + reply.Payload.Length,
            Timestamps = ts,
        });
        h.Send();
        h.Connection.TakeEvents();
        return h;
    }
}
