using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>Window scaling (both directions) and timestamps / PAWS (RFC 7323).</summary>
public sealed class TcpOptionsNegotiationTests
{
    private static readonly TcpConfig ScalingOnly = new() { Timestamps = false, Sack = false };
    private static readonly TcpConfig TimestampsOnly = new() { Sack = false, WindowScaling = false };

    [Fact]
    public void WindowShift_FromMaximumBuffer()
    {
        TcpConnection.WindowShiftFor(65535).Should().Be(0);
        TcpConnection.WindowShiftFor(65536).Should().Be(1);
        TcpConnection.WindowShiftFor(4 * 1024 * 1024).Should().Be(7);
        TcpConnection.WindowShiftFor(1 << 30).Should().Be(14);
    }

    [Fact]
    public void WindowScaling_BothWays()
    {
        var h = SynReceived(ScalingOnly, RemoteSyn with { WindowScale = 2 });
        var synAck = h.SendOne();
        synAck.WindowScale.Should().Be(7);
        synAck.Window.Should().Be(65535); // unscaled in a SYN
        h.Recv(RecvTemplate with { Window = 1000 });
        h.Connection.SendWindow.Should().Be(4000); // the peer's window, scaled by its shift 2

        h.Recv(RecvTemplate, new byte[100]);
        h.Advance(Ms(40));
        var ack = h.SendOne();
        ack.Window.Should().Be(512); // our window in units of 2^7; the right edge held (65435 bytes) rounds up, never down
    }

    [Fact]
    public void WindowScaling_PeerShiftAbove14_TreatedAs14()
    {
        var h = SynReceived(ScalingOnly, RemoteSyn with { WindowScale = 20 });
        h.SendOne();
        h.Recv(RecvTemplate with { Window = 1 });
        h.Connection.SendWindow.Should().Be(1 << 14);
    }

    [Fact]
    public void WindowScaling_OnlyIfBothOffer()
    {
        var h = SynReceived(ScalingOnly, RemoteSyn);
        h.SendOne().WindowScale.Should().BeNull();
        h.Recv(RecvTemplate with { Window = 1000 });
        h.Connection.SendWindow.Should().Be(1000);
        h.Recv(RecvTemplate, new byte[100]);
        h.Advance(Ms(40));
        h.SendOne().Window.Should().Be(65535 - 100); // unscaled; the right edge advertised in the SYN-ACK holds
    }

    [Fact]
    public void ActiveOpen_PeerWithoutScaling_DisablesOurs()
    {
        var h = SynSent(ScalingOnly);
        h.SendOne().WindowScale.Should().Be(7);
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq, Flags = TcpFlags.Syn | TcpFlags.Ack, Window = 1000 });
        h.SendOne().Window.Should().Be(65535);
        h.Connection.SendWindow.Should().Be(1000);
    }

    [Fact]
    public void Timestamps_EchoedInEverySegment()
    {
        var syn = RemoteSyn with { Timestamps = new TcpTimestamps(5000, 0) };
        var h = SynReceived(TimestampsOnly, syn);
        var synAck = h.SendOne();
        synAck.Timestamps.Should().Be(new TcpTimestamps(0, 5000)); // our clock: ms + offset 0
        h.Now = Ms(20);
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(5010, 0) });
        h.Connection.Rtt.HasSample.Should().BeFalse(); // TSecr 0 is not a sample
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(5020, 0) }, "x");
        h.Advance(Ms(40));
        h.SendOne().Timestamps.Should().Be(new TcpTimestamps(60, 5020));
        h.Connection.EffectiveMss.Should().Be(1240 - 12);
    }

    [Fact]
    public void Timestamps_RttSampleFromEcho()
    {
        var h = SynReceived(TimestampsOnly, RemoteSyn with { Timestamps = new TcpTimestamps(1, 0) });
        h.SendOne();
        h.Now = Ms(70);
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(2, 0) }); // echo 0: no sample
        h.Write(10);
        h.SendOne().Timestamps!.Value.Value.Should().Be(70);
        h.Now = Ms(95);
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 11, Timestamps = new TcpTimestamps(3, 70) });
        h.Connection.Rtt.SmoothedRtt.Should().Be(Ms(25));
    }

    [Fact]
    public void Paws_OldTimestamp_DroppedWithAck()
    {
        var h = SynReceived(TimestampsOnly, RemoteSyn with { Timestamps = new TcpTimestamps(1000, 0) });
        h.SendOne();
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(1001, 0) });
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(900, 0) }, "old");
        h.Connection.ReadableBytes.Should().Be(0);
        h.Connection.Counters.PawsDrops.Should().Be(1);
        h.SendOne().Timestamps!.Value.EchoReply.Should().Be(1001);
    }

    [Fact]
    public void Paws_WrappedTimestamp_IsNewer()
    {
        var h = SynReceived(TimestampsOnly, RemoteSyn with { Timestamps = new TcpTimestamps(0xFFFF_FFF0, 0) });
        h.SendOne();
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(5, 0) }, "new");
        h.Connection.ReadableBytes.Should().Be(3);
    }

    [Fact]
    public void Paws_RstIsExempt()
    {
        var h = SynReceived(TimestampsOnly, RemoteSyn with { Timestamps = new TcpTimestamps(1000, 0) });
        h.SendOne();
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(1001, 0) });
        h.Recv(RecvTemplate with { Flags = TcpFlags.Rst, Timestamps = new TcpTimestamps(5, 0) });
        h.Connection.Error.Should().Be(TcpError.Reset);
    }

    [Fact]
    public void Paws_AfterIdle24Days_Resynchronises()
    {
        var h = SynReceived(TimestampsOnly, RemoteSyn with { Timestamps = new TcpTimestamps(1000, 0) });
        h.SendOne();
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(1001, 0) });
        h.Now += TimeSpan.FromDays(25).Ticks;
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(7, 0) }, "ok");
        h.Connection.ReadableBytes.Should().Be(2);
    }

    [Fact]
    public void TsRecent_NotUpdatedByOutOfOrderSegment()
    {
        var h = SynReceived(TimestampsOnly, RemoteSyn with { Timestamps = new TcpTimestamps(1000, 0) });
        h.SendOne();
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(1001, 0) });
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 101, Timestamps = new TcpTimestamps(1500, 0) }, "later");
        h.SendOne().Timestamps!.Value.EchoReply.Should().Be(1001); // SEG.SEQ > Last.ACK.sent (RFC 7323 §4.3)
    }
}
