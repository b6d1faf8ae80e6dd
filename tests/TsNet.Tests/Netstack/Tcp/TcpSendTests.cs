using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>The send side: segmentation, windows, RTO and Karn, NewReno fast retransmit and recovery, persist, Nagle.</summary>
public sealed class TcpSendTests
{
    private const int Mss = 1240;

    /// <summary>ESTABLISHED with a measured RTT of 100 ms (SRTT 100, RTTVAR 50 ⇒ RTO 300 ms); clock at 100 ms.</summary>
    private static TcpTestHarness EstablishedWithRtt(TcpConfig? config = null)
    {
        var h = SynReceived(config);
        h.SendOne();
        h.Now = Ms(100);
        h.Recv(RecvTemplate);
        h.Connection.TakeEvents();
        h.Connection.Rtt.Rto.Should().Be(Ms(300));
        return h;
    }

    private static TcpHeader AckOf(int bytes, ushort window = 64000) =>
        RecvTemplate with { AcknowledgmentNumber = LocalSeq + 1 + bytes, Window = window };

    [Fact]
    public void Write_SendsMssSizedSegments_PshOnLast()
    {
        var h = Established();
        h.Write(3000).Should().Be(3000);
        var segments = h.Send();
        segments.Select(s => s.Payload.Length).Should().Equal(Mss, Mss, 3000 - (2 * Mss));
        segments.Select(s => s.Header.SequenceNumber).Should().Equal(LocalSeq + 1, LocalSeq + 1 + Mss, LocalSeq + 1 + (2 * Mss));
        segments[0].Header.Flags.Should().Be(TcpFlags.Ack);
        segments[2].Header.Flags.Should().Be(TcpFlags.Ack | TcpFlags.Psh);
    }

    [Fact]
    public void Write_BackPressure_WhenBufferFull()
    {
        var h = Established(new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false, SendBufferSize = 1000, MaxSendBufferSize = 1000 });
        h.Write(1500).Should().Be(1000);
        h.Connection.WritableBytes.Should().Be(0);
        h.Send();
        h.Recv(AckOf(600));
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.Writable);
        h.Connection.WritableBytes.Should().Be(600);
        h.Connection.UnacknowledgedBytes.Should().Be(400);
    }

    [Fact]
    public void Write_LimitedByPeerWindow_WithSenderSws()
    {
        var h = Established();
        h.Recv(AckOf(0, window: 2000));
        h.Write(5000);
        h.Send().Select(s => s.Payload.Length).Should().Equal(Mss); // 760 more fit, but that is a small segment
        h.Recv(AckOf(Mss, window: 760));
        h.Send().Select(s => s.Payload.Length).Should().Equal(760); // nothing in flight: send what fits
    }

    [Fact]
    public void Write_LimitedByInitialCwndOfTenSegments()
    {
        var h = Established();
        h.Write(30_000);
        h.Send().Should().HaveCount(10);
        h.Connection.Congestion.Window.Should().Be(10 * Mss);
        h.Recv(AckOf(2 * Mss));
        h.Connection.Congestion.Window.Should().Be(12 * Mss); // slow start: + bytes acked
        h.Send().Should().HaveCount(4); // 2 segments left the network, cwnd grew by 2
    }

    [Fact]
    public void Ack_OfEverything_StopsTimer()
    {
        var h = Established();
        h.Write(100);
        h.Send();
        h.Connection.NextDeadline.Should().Be(Ms(200));
        h.Recv(AckOf(100));
        h.Connection.NextDeadline.Should().Be(long.MaxValue);
        h.Connection.UnacknowledgedBytes.Should().Be(0);
    }

    [Fact]
    public void Rto_FirstUsesEstimate_ThenDoubles()
    {
        var h = EstablishedWithRtt();
        h.Write(100);
        h.SendOne();
        var gaps = new List<long>();
        for (int i = 0; i < 5; i++)
        {
            gaps.Add(h.AdvanceToDeadline() / TimeSpan.TicksPerMillisecond);
            var (header, payload) = h.SendOneWithPayload();
            header.SequenceNumber.Should().Be(LocalSeq + 1);
            payload.Should().HaveCount(100);
        }

        gaps.Should().Equal(300, 600, 1200, 2400, 4800);
        h.Connection.Counters.RetransmitTimeouts.Should().Be(5);
    }

    [Fact]
    public void Rto_NewAckRestartsTimer()
    {
        var h = EstablishedWithRtt();
        h.Write(2 * Mss);
        h.Send();
        h.Now += Ms(250);
        h.Recv(AckOf(Mss)); // 350 ms after sending ⇒ timed sample 250 ms
        h.Connection.Rtt.SmoothedRtt.Should().Be((Ms(100) * 7 / 8) + (Ms(250) / 8));
        h.Connection.NextDeadline.Should().Be(h.Now + h.Connection.Rtt.Rto);
    }

    [Fact]
    public void Rto_KarnsRule_NoSampleFromRetransmission_BackoffKept()
    {
        var h = EstablishedWithRtt();
        h.Write(100);
        h.SendOne();
        h.AdvanceToDeadline(); // 300 ms
        h.SendOne();
        h.Now += Ms(50);
        h.Recv(AckOf(100)); // ambiguous: for the original or the retransmission?
        h.Connection.Rtt.SmoothedRtt.Should().Be(Ms(100));
        h.Connection.RetransmitTimer.Backoff.Should().Be(1);

        h.Write(100);
        h.SendOne();
        (h.Connection.NextDeadline - h.Now).Should().Be(Ms(600)); // still backed off
        h.Now += Ms(100);
        h.Recv(AckOf(200)); // a clean sample ends the backoff
        h.Connection.RetransmitTimer.Backoff.Should().Be(0);
        h.Connection.Rtt.SmoothedRtt.Should().Be(Ms(100));
    }

    [Fact]
    public void Rto_GivesUpAfter15Retries()
    {
        var h = Established();
        h.Write(10);
        h.SendOne();
        int retransmissions = 0;
        while (h.Connection.State == TcpState.Established)
        {
            h.AdvanceToDeadline();
            retransmissions += h.Send().Count;
        }

        retransmissions.Should().Be(15);
        h.Connection.Error.Should().Be(TcpError.TimedOut);
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.Closed);
    }

    [Fact]
    public void Rto_CollapsesCwnd_AndGoesBackN()
    {
        var h = Established();
        h.Write(10 * Mss);
        h.Send().Should().HaveCount(10);
        h.AdvanceToDeadline();
        h.Connection.Congestion.Window.Should().Be(Mss);
        h.Connection.Congestion.SlowStartThreshold.Should().Be(5 * Mss);
        var resent = h.SendOneWithPayload();
        resent.Header.SequenceNumber.Should().Be(LocalSeq + 1);
        h.Recv(AckOf(Mss));
        h.Connection.Congestion.Window.Should().Be(2 * Mss);
        h.Send().Select(s => s.Header.SequenceNumber).Should().Equal(LocalSeq + 1 + Mss, LocalSeq + 1 + (2 * Mss));
        h.Recv(AckOf(10 * Mss)); // the originals got through after all
        h.Connection.SendNext.Should().Be(LocalSeq + 1 + (10 * Mss));
        h.SendNothing();
    }

    [Fact]
    public void FastRetransmit_AfterThreeDupAcks()
    {
        var h = Established();
        h.Write(20 * Mss);
        h.Send().Should().HaveCount(10);
        h.Recv(AckOf(0)); // duplicate ACK 1
        h.Recv(AckOf(0)); // duplicate ACK 2
        h.Connection.InRecovery.Should().BeFalse();
        h.Send().Should().HaveCount(2, "limited transmit (RFC 3042) sends one new segment per early dup ACK");
        h.Recv(AckOf(0)); // dup 3
        h.Connection.InRecovery.Should().BeTrue();
        h.Connection.Counters.FastRetransmits.Should().Be(1);
        h.Connection.Congestion.SlowStartThreshold.Should().Be(6 * Mss); // flight 12 segments / 2
        h.Connection.Congestion.Window.Should().Be(9 * Mss);
        var resent = h.Send();
        resent[0].Header.SequenceNumber.Should().Be(LocalSeq + 1);
        resent[0].Payload.Should().HaveCount(Mss);
    }

    [Fact]
    public void FastRecovery_PartialAck_RetransmitsNextHole_FullAckExits()
    {
        var h = Established();
        h.Write(10 * Mss);
        h.Send().Should().HaveCount(10);
        for (int i = 0; i < 3; i++)
        {
            h.Recv(AckOf(0));
        }

        h.Send().First().Header.SequenceNumber.Should().Be(LocalSeq + 1);
        h.Recv(AckOf(3 * Mss)); // partial: the segment at 3·MSS was lost too
        h.Connection.InRecovery.Should().BeTrue();
        var next = h.Send();
        next.First().Header.SequenceNumber.Should().Be(LocalSeq + 1 + (3 * Mss));
        h.Recv(AckOf(10 * Mss));
        h.Connection.InRecovery.Should().BeFalse();
        h.Connection.Congestion.Window.Should().Be(Mss); // min(ssthresh, FlightSize 0 + MSS)
    }

    [Fact]
    public void DupAcks_WithWindowChange_AreNotDuplicates()
    {
        var h = Established();
        h.Write(10 * Mss);
        h.Send();
        h.Recv(AckOf(0, window: 60000));
        h.Recv(AckOf(0, window: 50000));
        h.Recv(AckOf(0, window: 40000));
        h.Connection.InRecovery.Should().BeFalse();
    }

    [Fact]
    public void ZeroWindow_PersistProbes_WithBackoff()
    {
        var h = Established();
        h.Recv(AckOf(0, window: 0));
        h.Write(100);
        h.SendNothing();
        h.AdvanceToDeadline().Should().Be(Ms(200));
        var probe = h.SendOne();
        probe.SequenceNumber.Should().Be(LocalSeq); // SND.UNA − 1: the peer must answer with its window
        h.AdvanceToDeadline().Should().Be(Ms(400));
        h.SendOne();
        h.Recv(AckOf(0, window: 0)); // answered: keep probing, never give up
        h.AdvanceToDeadline().Should().Be(Ms(800));
        h.SendOne();
        h.Recv(AckOf(0, window: 1000));
        h.SendOneWithPayload().Payload.Should().HaveCount(100);
        h.Connection.NextDeadline.Should().Be(h.Now + Ms(200)); // the RTO now, not the persist timer
    }

    [Fact]
    public void Nagle_HoldsSmallSegmentWhileDataOutstanding()
    {
        var h = Established(new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false, NoDelay = false });
        h.Write(10);
        h.SendOne();
        h.Write(10);
        h.SendNothing();
        h.Recv(AckOf(10));
        h.SendOneWithPayload().Payload.Should().HaveCount(10);
    }

    [Fact]
    public void NoDelay_SendsSmallSegmentsAtOnce()
    {
        var h = Established();
        h.Write(10);
        h.SendOne();
        h.Write(10);
        h.SendOneWithPayload().Payload.Should().HaveCount(10);
    }

    [Fact]
    public void KeepAlive_ProbesAfterIdle_ThenTimesOut()
    {
        var config = new TcpConfig
        {
            Timestamps = false,
            Sack = false,
            WindowScaling = false,
            KeepAlive = true,
            KeepAliveIdle = TimeSpan.FromSeconds(10),
            KeepAliveInterval = TimeSpan.FromSeconds(1),
            KeepAliveCount = 3,
        };
        var h = Established(config);
        h.AdvanceToDeadline().Should().Be(TimeSpan.FromSeconds(10).Ticks);
        h.SendOne().Should().Be(SendTemplate with { SequenceNumber = LocalSeq });
        h.Recv(RecvTemplate); // answered: idle again from now
        h.AdvanceToDeadline().Should().Be(TimeSpan.FromSeconds(10).Ticks);
        h.SendOne();
        h.AdvanceToDeadline().Should().Be(TimeSpan.FromSeconds(1).Ticks);
        h.SendOne();
        h.AdvanceToDeadline().Should().Be(TimeSpan.FromSeconds(1).Ticks);
        h.SendOne();
        h.AdvanceToDeadline().Should().Be(TimeSpan.FromSeconds(1).Ticks);
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.TimedOut);
    }

    [Fact]
    public void KeepAlive_OffByDefault()
    {
        var h = Established();
        h.Connection.NextDeadline.Should().Be(long.MaxValue);
    }

    [Fact]
    public void Transfer_AcrossSequenceWrap()
    {
        var iss = new SeqNum(uint.MaxValue - 1000);
        var remote = new SeqNum(uint.MaxValue - 500);
        var h = new TcpTestHarness(TcpConnection.Accept(Endpoints, Plain, iss, RemoteSyn with { SequenceNumber = remote }, 0));
        h.SendOne();
        var recv = RecvTemplate with { SequenceNumber = remote + 1, AcknowledgmentNumber = iss + 1 };
        h.Recv(recv);
        h.Connection.State.Should().Be(TcpState.Established);

        h.Write(3000);
        var sent = h.Send();
        sent.Should().HaveCount(3);
        sent[1].Header.SequenceNumber.Should().Be(iss + 1 + Mss);
        h.Recv(recv with { AcknowledgmentNumber = iss + 3001 });
        h.Connection.UnacknowledgedBytes.Should().Be(0);
        h.Connection.SendUnacknowledged.Value.Should().BeLessThan(3000); // wrapped past zero

        h.Recv(recv, new byte[1000]);
        h.Recv(recv with { SequenceNumber = remote + 1001 }, new byte[1000]);
        h.SendOne().AcknowledgmentNumber.Should().Be(remote + 2001);
        h.Connection.ReadableBytes.Should().Be(2000);
    }

    [Fact]
    public void Checksum_FilledForIpv6()
    {
        var endpoints = new TcpEndpoints(
            TcpAddress.FromIPAddress(System.Net.IPAddress.Parse("fd7a:115c:a1e0::1")), 443,
            TcpAddress.FromIPAddress(System.Net.IPAddress.Parse("fd7a:115c:a1e0::2")), 50000);
        var connection = TcpConnection.Connect(endpoints, TcpConfig.Default, LocalSeq, 0);
        var buffer = new byte[1500];
        connection.TryGetSegment(buffer, out int length, 0).Should().BeTrue();
        endpoints.FillChecksum(buffer.AsSpan(0, length));
        endpoints.Reversed().IsInboundChecksumValid(buffer.AsSpan(0, length)).Should().BeTrue();
        endpoints.IsInboundChecksumValid(buffer.AsSpan(0, length)).Should().BeTrue(); // the pseudo-header sum is symmetric
        buffer[length - 1] ^= 1;
        endpoints.Reversed().IsInboundChecksumValid(buffer.AsSpan(0, length)).Should().BeFalse();
    }
}
