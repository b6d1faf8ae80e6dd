using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>The sender's SACK scoreboard and RFC 6675 loss recovery with DupThresh detection (RACK off; see <see cref="RackTlpTests"/>).</summary>
public sealed class SackRecoveryTests
{
    private const int Mss = 1240;

    private static SeqNum S(uint value) => new(value);

    private static SackBlocks Blocks(params (uint Left, uint Right)[] blocks)
    {
        var result = SackBlocks.Empty;
        foreach (var (left, right) in blocks)
        {
            result = result.Add(new SackBlock(S(left), S(right)));
        }

        return result;
    }

    [Fact]
    public void Scoreboard_MergesIgnoresDsackAndAdvances()
    {
        var board = new SackScoreboard(8);
        board.Update(Blocks((200, 300), (400, 500)), S(100), S(1000)).Should().BeTrue();
        board.Update(Blocks((50, 100)), S(100), S(1000)).Should().BeFalse(); // D-SACK below SND.UNA
        board.Update(Blocks((900, 1100)), S(100), S(1000)).Should().BeFalse(); // beyond SND.MAX
        board.Update(Blocks((300, 400)), S(100), S(1000)).Should().BeTrue();
        board.Count.Should().Be(1);
        board.SackedBytes.Should().Be(300);
        board.Update(Blocks((250, 350)), S(100), S(1000)).Should().BeFalse(); // nothing new
        board.Advance(S(250));
        board.SackedBytes.Should().Be(250);
        board[0].Should().Be(new SackBlock(S(250), S(500)));
        board.Advance(S(600));
        board.IsEmpty.Should().BeTrue();
        board.SackedBytes.Should().Be(0);
    }

    [Fact]
    public void Scoreboard_HolesAndLostBoundary()
    {
        var board = new SackScoreboard(8);
        board.Update(Blocks((200, 300), (400, 500), (600, 700)), S(100), S(1000));
        board.TryGetHole(S(100), out var start, out var end).Should().BeTrue();
        (start, end).Should().Be((S(100), S(200)));
        board.TryGetHole(S(250), out start, out end).Should().BeTrue();
        (start, end).Should().Be((S(300), S(400)));
        board.TryGetHole(S(650), out _, out _).Should().BeFalse();
        board.SackedBetween(S(250), S(650)).Should().Be(200);
        board.NextSackedAfter(S(300), S(1000)).Should().Be(S(400));

        // Three ranges above ⇒ the hole below the lowest of them is lost (DupThresh = 3).
        board.LostBoundary(S(100), mss: 100, dupThreshold: 3).Should().Be(S(200));
        // By bytes: more than 2·SMSS SACKed above.
        board.LostBoundary(S(100), mss: 40, dupThreshold: 5).Should().Be(S(400)); // 200 bytes above 400 > 4·40
        board.LostBoundary(S(100), mss: 1000, dupThreshold: 5).Should().Be(S(100)); // nothing lost
    }

    [Fact]
    public void Scoreboard_BoundedRanges()
    {
        var board = new SackScoreboard(2);
        board.Update(Blocks((200, 300), (400, 500), (600, 700)), S(100), S(1000));
        board.Count.Should().Be(2);
        board.SackedBytes.Should().Be(200);
    }

    private static TcpTestHarness EstablishedWithSack()
    {
        var config = new TcpConfig { Timestamps = false, WindowScaling = false, RackTlp = false, CongestionControl = CongestionControlAlgorithm.NewReno };
        var h = SynReceived(config, RemoteSyn with { SackPermitted = true });
        h.SendOne();
        h.Recv(RecvTemplate);
        h.Connection.TakeEvents();
        return h;
    }

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

    [Fact]
    public void SackRecovery_EntersOnLossEvidence_RetransmitsOnlyHoles()
    {
        var h = EstablishedWithSack();
        h.Write(10 * Mss);
        h.Send().Should().HaveCount(10);

        // Segments 0 and 4 lost. The first duplicate ACK already SACKs three segments above segment 0.
        h.Recv(SackAck(0, (1, 4)));
        h.Connection.InRecovery.Should().BeTrue();
        h.Connection.Congestion.Window.Should().Be(5 * Mss); // cwnd = ssthresh = FlightSize / 2
        var first = h.Send();
        first.Select(s => s.Header.SequenceNumber).Should().Equal(Seg(0)); // pipe 10 − 3 SACKed − 1 lost + 1 resent = 7 > 5

        h.Recv(SackAck(0, (5, 10), (1, 4)));
        h.Connection.Pipe().Should().Be(Mss); // only the retransmission of segment 0; segment 4 is lost
        var next = h.Send();
        next.Select(s => s.Header.SequenceNumber).Should().StartWith(new[] { Seg(4) });
        next.Where(s => s.Header.SequenceNumber < Seg(10)).Should().HaveCount(1, "SACKed segments are never resent");

        h.Recv(SackAck(10));
        h.Connection.InRecovery.Should().BeFalse();
        h.Connection.Counters.FastRetransmits.Should().Be(1);
    }

    [Fact]
    public void SackRecovery_PartialAck_MovesOnToNextLostHole()
    {
        var h = EstablishedWithSack();
        h.Write(10 * Mss);
        h.Send();
        h.Recv(SackAck(0, (1, 2), (3, 4), (5, 10))); // 0, 2 and 4 lost
        h.Send().Select(s => s.Header.SequenceNumber).Should().Equal(Seg(0), Seg(2), Seg(4));
        h.Recv(SackAck(2, (3, 4), (5, 10))); // partial ACK: segment 0 arrived
        h.Connection.InRecovery.Should().BeTrue();
        h.Send().Where(s => s.Header.SequenceNumber < Seg(10)).Should().BeEmpty("2 and 4 were already resent");
        h.Recv(SackAck(10));
        h.Connection.InRecovery.Should().BeFalse();
    }

    [Fact]
    public void Timeout_WithSackInfo_SkipsSackedData()
    {
        var h = EstablishedWithSack();
        h.Write(6 * Mss);
        h.Send();
        h.Recv(SackAck(0, (2, 6))); // enters recovery, resends segment 0
        h.Send();
        h.AdvanceToDeadline(); // the retransmission was lost as well
        h.Connection.Congestion.Window.Should().Be(Mss);
        h.SendOne().SequenceNumber.Should().Be(Seg(0));
        h.Recv(SackAck(1, (2, 6)));
        h.Send().Select(s => s.Header.SequenceNumber).Should().Equal(Seg(1)); // not 2..5
        h.Recv(SackAck(6));
        h.Connection.UnacknowledgedBytes.Should().Be(0);
    }

    [Fact]
    public void Timeout_ResendsSmallHolesBetweenSackedRanges()
    {
        var h = EstablishedWithSack();
        h.Write(4 * Mss);
        h.Send();
        var blocks = SackBlocks.Empty
            .Add(new SackBlock(Seg(0) + 600, Seg(1)))
            .Add(new SackBlock(Seg(1) + 600, Seg(4)));
        h.Recv(RecvTemplate with { AcknowledgmentNumber = Seg(0), Sack = blocks });
        h.Send(); // fast retransmit of the holes
        h.AdvanceToDeadline(); // lost again
        var resent = h.Send();
        resent.Select(s => (s.Header.SequenceNumber, s.Payload.Length)).Should().Equal((Seg(0), 600), (Seg(1), 600));
    }

    [Fact]
    public void RescueRetransmission_LostTail_ResentOncePerRecovery()
    {
        var h = EstablishedWithSack();
        h.Write(10 * Mss);
        h.Send();
        h.Recv(SackAck(0, (1, 9))); // segments 0 and 9 lost: nothing above 9 can ever report it
        h.Connection.InRecovery.Should().BeTrue();
        h.Send().Select(s => s.Header.SequenceNumber).Should().Equal(Seg(0), Seg(9)); // rule 1, then rule 4 (rescue)
        h.Recv(SackAck(0, (1, 9)));
        h.Send().Should().BeEmpty("one rescue per recovery");
        h.Recv(SackAck(10));
        h.Connection.InRecovery.Should().BeFalse();
        h.Connection.Counters.RetransmitTimeouts.Should().Be(0);
    }

    [Fact]
    public void NextSegRule3_HoleNotYetLost_ResentWhenNoNewData()
    {
        var h = EstablishedWithSack();
        h.Write(6 * Mss);
        h.Send();
        h.Recv(SackAck(0, (1, 4), (5, 6))); // 0 is lost (4 SACKed above); 4 has only one SACKed segment above it
        // cwnd = ssthresh = 3 segments; pipe after resending 0 is 2 (segments 0 and 4): room for one more.
        h.Send().Select(s => s.Header.SequenceNumber).Should().Equal(Seg(0), Seg(4)); // rule 1, then rule 3
    }
}
