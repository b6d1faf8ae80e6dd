using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>The receive side in ESTABLISHED: delayed ACK, out-of-order data with SACK, bounds, windows.</summary>
public sealed class TcpReceiveTests
{
    private static TcpConfig WithSack() => new() { Timestamps = false, Sack = true, WindowScaling = false };

    private static TcpTestHarness EstablishedWithSack(TcpConfig? config = null)
    {
        var h = SynReceived(config ?? WithSack(), RemoteSyn with { SackPermitted = true });
        h.SendOne();
        h.Recv(RecvTemplate);
        h.Connection.TakeEvents();
        return h;
    }

    private static byte[] Bytes(int count, int start = 0) => Enumerable.Range(start, count).Select(i => (byte)i).ToArray();

    [Fact]
    public void Established_Data_AckDelayedBy40ms()
    {
        var h = Established();
        h.Recv(RecvTemplate, "abc");
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.Readable);
        h.SendNothing();
        h.Connection.NextDeadline.Should().Be(Ms(40));
        h.Advance(Ms(39));
        h.SendNothing();
        h.Advance(Ms(1));
        h.SendOne().Should().Be(SendTemplate with { AcknowledgmentNumber = RemoteSeq + 4, Window = 65535 - 3 + 0 });
    }

    [Fact]
    public void Established_SecondFullSegment_AckedImmediately()
    {
        var h = Established();
        h.Recv(RecvTemplate, Bytes(1000));
        h.SendNothing();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1001 }, Bytes(1000));
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 2001);
        h.Connection.NextDeadline.Should().Be(long.MaxValue);
    }

    [Fact]
    public void Established_OutgoingData_CarriesTheAck()
    {
        var h = Established();
        h.Recv(RecvTemplate, "ping");
        h.Write(4);
        var (header, _) = h.SendOneWithPayload();
        header.AcknowledgmentNumber.Should().Be(RemoteSeq + 5);
        h.Connection.NextDeadline.Should().NotBe(Ms(40)); // delayed ACK cancelled (only the RTO remains)
    }

    [Fact]
    public void Established_OutOfWindowData_SendsAck()
    {
        var h = Established();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 100_000 }, "far");
        h.SendOne().Should().Be(SendTemplate);
        h.Connection.Counters.UnacceptableSegments.Should().Be(1);
    }

    [Fact]
    public void Established_OldDuplicate_SendsAck()
    {
        var h = Established();
        h.Recv(RecvTemplate, "abc");
        h.Recv(RecvTemplate, "abc");
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 4);
        h.Connection.ReadableBytes.Should().Be(3);
        h.Connection.Counters.DuplicateSegments.Should().Be(1);
    }

    [Fact]
    public void Established_PartialOverlap_KeepsOnlyNewBytes()
    {
        var h = Established();
        h.Recv(RecvTemplate, "abc");
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2 }, "bcdef");
        System.Text.Encoding.ASCII.GetString(h.ReadAll()).Should().Be("abcdef");
    }

    [Fact]
    public void Established_OutOfOrder_SendsSackAndBuffers()
    {
        var h = EstablishedWithSack();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 101 }, Bytes(100, 100));
        h.Connection.ReadableBytes.Should().Be(0);
        var ack = h.SendOne();
        ack.AcknowledgmentNumber.Should().Be(RemoteSeq + 1);
        ack.Sack.Count.Should().Be(1);
        ack.Sack[0].Should().Be(new SackBlock(RemoteSeq + 101, RemoteSeq + 201));

        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 301 }, Bytes(100, 300));
        ack = h.SendOne();
        ack.Sack.Count.Should().Be(2);
        ack.Sack[0].Should().Be(new SackBlock(RemoteSeq + 301, RemoteSeq + 401)); // newest first (RFC 2018)
        ack.Sack[1].Should().Be(new SackBlock(RemoteSeq + 101, RemoteSeq + 201));

        h.Recv(RecvTemplate, Bytes(100)); // fills the first hole
        ack = h.SendOne();
        ack.AcknowledgmentNumber.Should().Be(RemoteSeq + 201);
        ack.Sack.Count.Should().Be(1);
        h.ReadAll().Should().Equal(Bytes(200));
        h.Connection.Counters.OutOfOrderSegments.Should().Be(2);
    }

    [Fact]
    public void Established_OutOfOrderBurst_OneDuplicateAckEach()
    {
        var h = EstablishedWithSack();
        for (int i = 1; i <= 3; i++)
        {
            h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1 + (i * 100) }, Bytes(100));
        }

        var acks = h.Send();
        acks.Should().HaveCount(3);
        acks.Should().OnlyContain(a => a.Header.AcknowledgmentNumber == RemoteSeq + 1);
    }

    [Fact]
    public void Established_Duplicate_SendsDsack()
    {
        var h = EstablishedWithSack();
        h.Recv(RecvTemplate, Bytes(100));
        h.Recv(RecvTemplate, Bytes(100));
        var ack = h.SendOne();
        ack.AcknowledgmentNumber.Should().Be(RemoteSeq + 101);
        ack.Sack.Count.Should().Be(1);
        ack.Sack[0].Should().Be(new SackBlock(RemoteSeq + 1, RemoteSeq + 101)); // D-SACK: below the ACK (RFC 2883)
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 101 }, Bytes(100));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 201 }, Bytes(100));
        h.SendOne().Sack.Count.Should().Be(0); // reported once
    }

    [Fact]
    public void Established_AdjacentDuplicatesBeforeAnAck_ShareOneDsackBlock()
    {
        var h = EstablishedWithSack();
        h.Recv(RecvTemplate, Bytes(300));
        h.Send();
        h.Recv(RecvTemplate, Bytes(100)); // a batch of three duplicates arrives before anything is sent
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 101 }, Bytes(100));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 201 }, Bytes(100));
        var acks = h.Send();
        acks[0].Header.Sack[0].Should().Be(new SackBlock(RemoteSeq + 1, RemoteSeq + 301));
        acks.Skip(1).Should().OnlyContain(a => a.Header.Sack.Count == 0, "reported once");
    }

    [Fact]
    public void Established_ReassemblyBound_DropsAndCounts()
    {
        var h = EstablishedWithSack(new TcpConfig { Timestamps = false, WindowScaling = false, MaxReassemblyRanges = 2 });
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 101 }, Bytes(10));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 201 }, Bytes(10));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 301 }, Bytes(10));
        h.Connection.Counters.ReassemblyDrops.Should().Be(1);
        h.Connection.Counters.OutOfOrderSegments.Should().Be(2);
        h.Send().Should().HaveCount(3); // still a duplicate ACK for each
        h.Recv(RecvTemplate, Bytes(100));
        h.Connection.ReadableBytes.Should().Be(110);
    }

    [Fact]
    public void Established_DataBeyondWindow_IsTrimmed()
    {
        var h = Established(new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false, ReceiveBufferSize = 1000, MaxReceiveBufferSize = 1000 });
        h.Recv(RecvTemplate, Bytes(1200));
        h.Connection.ReadableBytes.Should().Be(1000);
        var ack = h.SendOne();
        ack.AcknowledgmentNumber.Should().Be(RemoteSeq + 1001);
        ack.Window.Should().Be(0);
    }

    [Fact]
    public void Established_ZeroWindow_ProbeGetsAckWithZeroWindow()
    {
        var h = Established(new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false, ReceiveBufferSize = 1000, MaxReceiveBufferSize = 1000 });
        h.Recv(RecvTemplate, Bytes(1000));
        h.Send();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1001 }, Bytes(1)); // RFC 9293 style probe
        var ack = h.SendOne();
        ack.AcknowledgmentNumber.Should().Be(RemoteSeq + 1001);
        ack.Window.Should().Be(0);
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1000 }); // Linux-style probe (SEQ = RCV.NXT − 1)
        h.SendOne().Window.Should().Be(0);
    }

    [Fact]
    public void Read_OpensWindow_SendsWindowUpdate()
    {
        var h = Established(new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false, ReceiveBufferSize = 4000, MaxReceiveBufferSize = 4000 });
        h.Recv(RecvTemplate, Bytes(1000));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1001 }, Bytes(1000));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2001 }, Bytes(1000));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 3001 }, Bytes(1000));
        h.Send().Last().Header.Window.Should().Be(0);
        h.Connection.Read(new byte[100]).Should().Be(100);
        h.SendNothing(); // 100 bytes: below the SWS threshold min(buffer/2, MSS)
        h.Connection.Read(new byte[2000]).Should().Be(2000);
        h.SendOne().Window.Should().Be(2100);
    }

    [Fact]
    public void Window_NeverShrinks_RightEdge()
    {
        var h = Established(new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false, ReceiveBufferSize = 4000, MaxReceiveBufferSize = 4000 });
        h.Recv(RecvTemplate, Bytes(1000));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1001 }, Bytes(1000));
        var ack = h.SendOne();
        (ack.AcknowledgmentNumber + ack.Window).Should().Be(RemoteSeq + 1 + 4000);
        h.Connection.Read(new byte[300]);
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2001 }, Bytes(500));
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2501 }, Bytes(500));
        h.Advance(Ms(40));
        ack = h.SendOne();
        (ack.AcknowledgmentNumber + ack.Window).Should().Be(RemoteSeq + 1 + 4000); // 300 read: too little to move it
    }

    [Fact]
    public void Established_OutOfWindowBareAcks_AnsweredAtMostEvery500ms()
    {
        var h = Established();
        var stray = RecvTemplate with { SequenceNumber = RemoteSeq + 200_000 };
        h.Recv(stray);
        h.SendOne();
        h.Recv(stray);
        h.Recv(stray);
        h.SendNothing();
        h.Now += Ms(500);
        h.Recv(stray);
        h.SendOne();
        h.Recv(stray, "data"); // data is always answered
        h.SendOne();
    }

    [Fact]
    public void Established_ZeroWindow_DataSegmentStillDeliversItsAck()
    {
        var h = Established(new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false, ReceiveBufferSize = 1000, MaxReceiveBufferSize = 1000 });
        h.Recv(RecvTemplate, Bytes(1000));
        h.Write(100);
        h.Send();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1001, AcknowledgmentNumber = LocalSeq + 101 }, Bytes(500));
        h.Connection.UnacknowledgedBytes.Should().Be(0); // the ACK counted
        h.Connection.ReadableBytes.Should().Be(1000); // the data did not
        var ack = h.SendOne();
        ack.AcknowledgmentNumber.Should().Be(RemoteSeq + 1001);
        ack.Window.Should().Be(0);
    }
}
