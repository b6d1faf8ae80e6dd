using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>RACK-TLP (RFC 8985): the per-segment record, the detector's rules, and one connection in virtual time.</summary>
public sealed class RackTlpTests
{
    private const int Mss = 1240;

    private static SeqNum S(uint value) => new(value);

    private static SeqNum Seg(int index) => LocalSeq + 1 + (index * Mss);

    private static TcpHeader SackAck(int ackedSegments, params (int From, int To)[] sacked)
    {
        var blocks = SackBlocks.Empty;
        foreach (var (from, to) in sacked)
        {
            blocks = blocks.Add(new SackBlock(Seg(from), Seg(to)));
        }

        return RecvTemplate with { AcknowledgmentNumber = Seg(ackedSegments), Sack = blocks };
    }

    /// <summary>ESTABLISHED with SACK (no timestamps), SRTT = min RTT = 20 ms, clock at 20 ms.</summary>
    private static TcpTestHarness EstablishedWithRack()
    {
        var config = new TcpConfig { Timestamps = false, WindowScaling = false };
        var h = SynReceived(config, RemoteSyn with { SackPermitted = true });
        h.SendOne();
        h.Now = Ms(20);
        h.Recv(RecvTemplate);
        h.Connection.TakeEvents();
        h.Connection.RackEnabled.Should().BeTrue();
        h.Connection.Rtt.SmoothedRtt.Should().Be(Ms(20));
        return h;
    }

    private static List<SeqNum> SentSeqs(TcpTestHarness h) => h.Send().Select(s => s.Header.SequenceNumber).ToList();

    // ---- SentSegments ---------------------------------------------------------------------------------------------

    [Fact]
    public void SentSegments_RetransmissionSplitsAndRestamps()
    {
        var segments = new SentSegments(16);
        segments.AddNew(S(100), S(200), now: 1);
        segments.AddNew(S(200), S(300), now: 2);
        segments.IndexOf(S(150)).Should().Be(0);
        segments.IndexOf(S(200)).Should().Be(1);
        segments.IndexOf(S(300)).Should().Be(-1);

        segments.MarkLost(0);
        segments.LostBytes.Should().Be(100);
        segments.MarkRetransmitted(S(120), S(160), now: 5); // part of the first: split into three
        segments.Count.Should().Be(4);
        segments[0].Should().Match<SentSegment>(s => s.Start == S(100) && s.End == S(120) && s.Has(SentSegmentFlags.Lost) && s.SentAt == 1);
        segments[1].Should().Match<SentSegment>(s => s.Start == S(120) && s.End == S(160) && s.Has(SentSegmentFlags.Retransmitted) && !s.Has(SentSegmentFlags.Lost) && s.SentAt == 5);
        segments[2].Should().Match<SentSegment>(s => s.Start == S(160) && s.End == S(200) && s.Has(SentSegmentFlags.Lost));
        segments.LostBytes.Should().Be(60);
        segments.LostCount.Should().Be(2);
        segments.RetransmittedHigh.Should().Be(S(160));

        segments.MarkSacked(3);
        segments.SackedBytes.Should().Be(100);
        segments.TrimOldest(S(110));
        segments.LostBytes.Should().Be(50);
        while (!segments.IsEmpty)
        {
            segments.RemoveOldest();
        }

        segments.HasStorage.Should().BeFalse();
        (segments.SackedBytes, segments.LostBytes, segments.SackedCount, segments.LostCount).Should().Be((0, 0, 0, 0));
    }

    [Fact]
    public void SentSegments_AtBound_NewDataExtendsTheNewest()
    {
        var segments = new SentSegments(2);
        segments.AddNew(S(0), S(10), now: 1);
        segments.AddNew(S(10), S(20), now: 2);
        segments.MarkSacked(1);
        segments.AddNew(S(20), S(30), now: 3);
        segments.Count.Should().Be(2);
        segments[1].Should().Match<SentSegment>(s => s.Start == S(10) && s.End == S(30) && s.SentAt == 3 && !s.Has(SentSegmentFlags.Sacked));
        segments.SackedBytes.Should().Be(0);
        segments.MarkRetransmitted(S(0), S(5), now: 4); // no room to split: the whole segment is restamped
        segments.Count.Should().Be(2);
        segments[0].SentAt.Should().Be(4);
    }

    [Fact]
    public void SentSegments_FinIsNotPartOfTheSackedData()
    {
        var segments = new SentSegments(8);
        segments.AddNew(S(0), S(11), now: 1, fin: true);
        segments[0].DataEnd.Should().Be(S(10));
        segments.MarkRetransmitted(S(0), S(5), now: 2);
        segments[0].Has(SentSegmentFlags.Fin).Should().BeFalse();
        segments[1].Has(SentSegmentFlags.Fin).Should().BeTrue();
    }

    // ---- RackLossDetector -----------------------------------------------------------------------------------------

    [Fact]
    public void ReorderWindow_Rules()
    {
        long srtt = Ms(40);
        var rack = new RackLossDetector(64, 0);
        rack.OnRttSample(Ms(20), now: 0);
        rack.ReorderWindow(srtt, inRecovery: false, dupThreshold: 3).Should().Be(Ms(5)); // min_RTT / 4
        rack.ReorderWindow(srtt, inRecovery: true, dupThreshold: 3).Should().Be(0); // no reordering seen: DupThresh speed

        for (int i = 0; i < 3; i++)
        {
            rack.Segments.AddNew(S((uint)(i * 10)), S((uint)((i + 1) * 10)), now: 0);
            rack.Segments.MarkSacked(i);
        }

        rack.ReorderWindow(srtt, inRecovery: false, dupThreshold: 3).Should().Be(0);

        // A D-SACK: reordering seen, one more quarter of min_RTT per round trip that brings one.
        rack.UpdateReorderWindow(S(0), sendNext: S(100), dsack: true);
        rack.ReorderingSeen.Should().BeTrue();
        rack.ReorderWindow(srtt, inRecovery: true, dupThreshold: 3).Should().Be(Ms(10));
        rack.UpdateReorderWindow(S(50), sendNext: S(120), dsack: true); // same round: no growth
        rack.ReorderWindowMultiplier.Should().Be(2);
        rack.UpdateReorderWindow(S(100), sendNext: S(200), dsack: true); // next round
        rack.ReorderWindowMultiplier.Should().Be(3);
        for (int i = 0; i < 10; i++)
        {
            rack.UpdateReorderWindow(S(300), sendNext: S(300), dsack: true);
            rack.UpdateReorderWindow(S(300), sendNext: S(300), dsack: false);
        }

        rack.ReorderWindow(srtt, inRecovery: false, dupThreshold: 3).Should().Be(srtt, "capped at SRTT");

        // Sixteen recoveries without D-SACK reset the multiplier.
        for (int i = 0; i < 16; i++)
        {
            rack.OnRecoveryExit();
        }

        rack.ReorderWindowMultiplier.Should().Be(1);
    }

    [Fact]
    public void DetectLoss_MarksSegmentsSentBeforeTheDeliveredOne_AfterRttPlusWindow()
    {
        var rack = new RackLossDetector(64, 0);
        rack.OnRttSample(Ms(20), now: 0);
        rack.Segments.AddNew(S(0), S(10), now: Ms(0));
        rack.Segments.AddNew(S(10), S(20), now: Ms(1));
        rack.Segments.AddNew(S(20), S(30), now: Ms(2));
        rack.Segments.AddNew(S(30), S(40), now: Ms(3));

        // At 22 ms segment [20, 30) is SACKed: RACK.rtt = 20 ms; the two before it wait RTT + 5 ms from their send.
        rack.OnAck(S(0), SackBlocks.Empty.Add(new SackBlock(S(20), S(30))), sendMax: S(40), timestamps: null, now: Ms(22));
        rack.Rtt.Should().Be(Ms(20));
        long window = rack.ReorderWindow(Ms(20), inRecovery: false, dupThreshold: 3);
        window.Should().Be(Ms(5));
        rack.DetectLoss(window, Ms(22)).Should().Be(Ms(4), "[10, 20) is due at 1 + 20 + 5 = 26 ms (the latest of the two)");
        rack.Segments.LostCount.Should().Be(0);
        rack.DetectLoss(window, Ms(25)).Should().Be(Ms(1));
        rack.Segments[0].Has(SentSegmentFlags.Lost).Should().BeTrue();
        rack.DetectLoss(window, Ms(26)).Should().Be(0);
        rack.Segments.LostCount.Should().Be(2);
        rack.Segments[3].Has(SentSegmentFlags.Lost).Should().BeFalse("sent after the delivered segment");
    }

    [Fact]
    public void Reordering_SeenWhenAnOriginalArrivesBelowTheHighestDelivered()
    {
        var rack = new RackLossDetector(64, 0);
        rack.Segments.AddNew(S(0), S(10), now: 0);
        rack.Segments.AddNew(S(10), S(20), now: 0);
        rack.OnAck(S(0), SackBlocks.Empty.Add(new SackBlock(S(10), S(20))), S(20), null, now: Ms(20));
        rack.ReorderingSeen.Should().BeFalse();
        rack.OnAck(S(20), SackBlocks.Empty, S(20), null, now: Ms(21));
        rack.ReorderingSeen.Should().BeTrue();
    }

    // ---- One connection ------------------------------------------------------------------------------------------

    [Fact]
    public void OneSackedAboveHole_WaitsReorderWindow_ThenRetransmits()
    {
        var h = EstablishedWithRack();
        h.Write(4 * Mss);
        h.Send().Should().HaveCount(4);
        h.Now = Ms(40);
        h.Recv(SackAck(0, (1, 2)));
        h.Send().Should().BeEmpty("one SACKed segment may be reordering");
        h.Connection.NextDeadline.Should().Be(Ms(45), "sent at 20 ms + RACK.rtt 20 ms + min_RTT/4");
        h.AdvanceToDeadline();
        SentSeqs(h).Should().StartWith(new[] { Seg(0) });
        h.Connection.InRecovery.Should().BeTrue();
        h.Connection.Counters.RetransmitTimeouts.Should().Be(0);
    }

    [Fact]
    public void ThreeSackedWithoutReorderingSeen_RetransmitsAtOnce()
    {
        var h = EstablishedWithRack();
        h.Write(5 * Mss);
        h.Send();
        h.Now = Ms(40);
        h.Recv(SackAck(0, (1, 4)));
        h.Connection.InRecovery.Should().BeTrue();
        SentSeqs(h).Should().Equal(Seg(0));
    }

    [Fact]
    public void ReorderingSeen_HeldBackSegmentArrivesWithinWindow_NoRetransmission()
    {
        var h = EstablishedWithRack();
        h.Write(2 * Mss);
        h.Send();
        h.Now = Ms(40);
        h.Recv(SackAck(0, (1, 2)));
        h.Now = Ms(41);
        h.Recv(SackAck(2)); // segment 0 was only late
        h.Connection.Rack.ReorderingSeen.Should().BeTrue();

        h.Write(5 * Mss);
        h.Send().Should().HaveCount(5);
        h.Now = Ms(61);
        h.Recv(SackAck(2, (3, 7))); // four SACKed above segment 2: with reordering seen, wait min_RTT/4
        h.Send().Should().BeEmpty();
        h.Connection.InRecovery.Should().BeFalse();
        h.Now = Ms(64);
        h.Recv(SackAck(7));
        h.Advance(Ms(10));
        h.Send().Should().BeEmpty();
        h.Connection.Counters.Retransmissions.Should().Be(0);
        h.Connection.Counters.FastRetransmits.Should().Be(0);
    }

    [Fact]
    public void LostRetransmission_DetectedByLaterDelivery_WithoutTimeout()
    {
        var h = EstablishedWithRack();
        h.Write(20 * Mss);
        h.Send().Should().HaveCount(10);
        h.Now = Ms(40);
        h.Recv(SackAck(0, (1, 4)));
        SentSeqs(h).Should().Equal(Seg(0)); // fast retransmit at 40 ms (lost again)

        h.Now = Ms(60);
        h.Recv(SackAck(0, (1, 10)));
        var fresh = SentSeqs(h);
        fresh.Should().NotBeEmpty().And.OnlyContain(seq => seq >= Seg(10));

        h.Now = Ms(80);
        h.Recv(SackAck(0, (1, 10 + fresh.Count))); // data sent at 60 ms arrived; the 40 ms retransmission did not
        SentSeqs(h).Should().StartWith(new[] { Seg(0) });
        h.Connection.Counters.RetransmitTimeouts.Should().Be(0);
        h.Connection.Counters.FastRetransmits.Should().Be(1, "still the same recovery");
    }

    [Fact]
    public void TailLoss_ProbeRetransmitsLastSegmentAfterTwoSrtt_ThenRackRepairs()
    {
        var h = EstablishedWithRack();
        h.Write(3 * Mss);
        h.Send().Should().HaveCount(3);
        h.Connection.NextDeadline.Should().Be(Ms(60), "PTO = 2·SRTT, well before the 200 ms RTO");
        h.AdvanceToDeadline();
        var probe = h.SendOneWithPayload();
        probe.Header.SequenceNumber.Should().Be(Seg(2));
        h.Connection.Counters.TailLossProbes.Should().Be(1);
        h.Connection.RetransmitTimer.Deadline.Should().Be(Ms(60 + 200), "the RTO restarts at the probe");

        h.Now = Ms(80);
        h.Recv(SackAck(0, (2, 3))); // only the probe arrived: segments 0 and 1 were lost
        SentSeqs(h).Should().Equal(Seg(0), Seg(1));
        h.Now = Ms(100);
        h.Recv(SackAck(3));
        h.Connection.UnacknowledgedBytes.Should().Be(0);
        h.Connection.Counters.RetransmitTimeouts.Should().Be(0);
    }

    [Fact]
    public void TailLoss_OneSegmentInFlight_ProbeWaitsForDelayedAck_ButNotBeyondRto()
    {
        var h = EstablishedWithRack();
        h.Write(100);
        h.Send();
        // 2·SRTT + 200 ms (the peer may delay its ACK) exceeds the RTO deadline, so the probe takes the RTO's place.
        h.Connection.NextDeadline.Should().Be(h.Connection.RetransmitTimer.Deadline);
        h.AdvanceToDeadline();
        h.SendOne().SequenceNumber.Should().Be(Seg(0));
        h.Connection.Counters.TailLossProbes.Should().Be(1);
        h.Connection.Counters.RetransmitTimeouts.Should().Be(0);
        h.Connection.Congestion.Window.Should().Be(10 * Mss, "a probe is not a timeout");
    }

    [Fact]
    public void TailLoss_NewDataWaiting_ProbeSendsNewSegmentBeyondCwnd()
    {
        var h = EstablishedWithRack();
        h.Write(12 * Mss);
        h.Send().Should().HaveCount(10);
        h.AdvanceToDeadline();
        h.SendOne().SequenceNumber.Should().Be(Seg(10));
        h.Connection.Counters.Retransmissions.Should().Be(0);
    }

    [Fact]
    public void Probe_DsackedAsDuplicate_NoCongestionResponse()
    {
        var h = EstablishedWithRack();
        h.Write(3 * Mss);
        h.Send();
        h.AdvanceToDeadline();
        h.Send(); // probe: segment 2 again
        int cwnd = h.Connection.Congestion.Window;
        h.Now = Ms(70);
        h.Recv(SackAck(3)); // the original ACK was only late
        h.Now = Ms(80);
        h.Recv(SackAck(3, (2, 3))); // the probe arrived as a duplicate: D-SACK
        h.Connection.Counters.DsacksReceived.Should().Be(1);
        h.Connection.Counters.TailLossProbeRecoveries.Should().Be(0);
        h.Connection.Congestion.Window.Should().Be(cwnd);
    }

    [Fact]
    public void Probe_RepairedALoss_ReducesCwndOnce()
    {
        var h = EstablishedWithRack();
        h.Write(3 * Mss);
        h.Send();
        h.AdvanceToDeadline();
        h.Send(); // probe: segment 2 again (the original was lost)
        int cwnd = h.Connection.Congestion.Window;
        h.Now = Ms(80);
        h.Recv(SackAck(3));
        h.Write(Mss);
        h.Send();
        h.Now = Ms(100);
        h.Recv(SackAck(4)); // beyond the probe, and no D-SACK came
        h.Connection.Counters.TailLossProbeRecoveries.Should().Be(1);
        h.Connection.Congestion.Window.Should().Be((int)(cwnd * CubicCongestionControl.Beta), "CUBIC: ssthresh = β·cwnd");
    }

    [Fact]
    public void Undo_EveryRetransmissionDsacked_RestoresWindow()
    {
        var h = EstablishedWithRack();
        h.Write(10 * Mss);
        h.Send();
        int before = h.Connection.Congestion.Window;
        h.Now = Ms(40);
        h.Recv(SackAck(0, (1, 4)));
        SentSeqs(h).Should().Equal(Seg(0));
        h.Connection.Congestion.Window.Should().BeLessThan(before);
        h.Now = Ms(45);
        h.Recv(SackAck(10)); // segment 0 was only late
        h.Now = Ms(60);
        h.Recv(SackAck(10, (0, 1))); // and its retransmission arrived as a duplicate: D-SACK
        h.Connection.Counters.UndoneReductions.Should().Be(1);
        h.Connection.Congestion.Window.Should().Be(before);
        h.Connection.Congestion.SlowStartThreshold.Should().Be(int.MaxValue, "back in slow start as before the false alarm");
    }

    [Fact]
    public void Undo_NotWhileSomeRetransmissionIsUnproven()
    {
        var h = EstablishedWithRack();
        h.Write(10 * Mss);
        h.Send();
        h.Now = Ms(40);
        h.Recv(SackAck(0, (1, 2), (3, 4), (5, 10))); // 0, 2 and 4 look lost
        h.Send().Where(s => s.Header.SequenceNumber < Seg(10)).Should().HaveCount(3);
        int reduced = h.Connection.Congestion.Window;
        h.Now = Ms(60);
        h.Recv(SackAck(10));
        h.Recv(SackAck(10, (0, 1))); // only segment 0's retransmission was unnecessary
        h.Recv(SackAck(10, (2, 3)));
        h.Connection.Counters.UndoneReductions.Should().Be(0);
        h.Connection.Congestion.Window.Should().BeLessThanOrEqualTo(reduced);
    }

    [Fact]
    public void Undo_SpuriousTimeout_RestoresWindow()
    {
        var config = new TcpConfig { Timestamps = false, WindowScaling = false, RackTlp = false };
        var h = SynReceived(config, RemoteSyn with { SackPermitted = true });
        h.SendOne();
        h.Now = Ms(20);
        h.Recv(RecvTemplate);
        h.Write(2 * Mss);
        h.Send().Should().HaveCount(2);
        int before = h.Connection.Congestion.Window;
        h.AdvanceToDeadline(); // the ACK is only late
        h.Connection.Counters.RetransmitTimeouts.Should().Be(1);
        SentSeqs(h).Should().Equal(Seg(0));
        h.Connection.Congestion.Window.Should().Be(Mss);
        h.Now += Ms(5);
        h.Recv(SackAck(2));
        h.Recv(SackAck(2, (0, 1)));
        h.Connection.Counters.UndoneReductions.Should().Be(1);
        h.Connection.Congestion.Window.Should().Be(before);
    }

    [Fact]
    public void RackOff_ThreeDuplicatesStillRule()
    {
        var config = new TcpConfig { Timestamps = false, WindowScaling = false, RackTlp = false };
        var h = SynReceived(config, RemoteSyn with { SackPermitted = true });
        h.SendOne();
        h.Recv(RecvTemplate);
        h.Connection.RackEnabled.Should().BeFalse();
        h.Write(3 * Mss);
        h.Send();
        h.Connection.NextDeadline.Should().Be(h.Connection.RetransmitTimer.Deadline, "no probe timer");
    }
}
