using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Tcp;

public sealed class NewRenoCongestionControlTests
{
    private const int Mss = 1000;

    [Fact]
    public void InitialWindow_IsTenSegments()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.Window.Should().Be(10_000);
        cc.SlowStartThreshold.Should().Be(int.MaxValue);
    }

    [Fact]
    public void SlowStart_AddsBytesAcked_IncludingStretchAcks()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.OnAck(500, Mss, 0, 0);
        cc.Window.Should().Be(10_500);
        cc.OnAck(4 * Mss, Mss, 0, 0); // one ACK for a burst of four segments
        cc.Window.Should().Be(14_500);
    }

    [Fact]
    public void SlowStart_StopsAtSsthresh_RestCountsForAvoidance()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.OnRetransmitTimeout(24_000, Mss, firstExpiry: true); // ssthresh 12000, cwnd 1000
        cc.OnAck(10_000, Mss, 0, 0);
        cc.Window.Should().Be(11_000);
        cc.OnAck(3000, Mss, 0, 0); // 1000 to reach ssthresh, 2000 of avoidance credit
        cc.Window.Should().Be(12_000);
        cc.OnAck(10_000, Mss, 0, 0); // credit 12000 ≥ cwnd ⇒ +1 MSS
        cc.Window.Should().Be(13_000);
    }

    [Fact]
    public void CongestionAvoidance_AddsOneMssPerWindowOfAckedBytes()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.OnEnterRecovery(20_000, Mss, 0); // ssthresh 10000, cwnd 13000
        cc.OnExitRecovery(20_000, Mss); // cwnd = min(10000, 21000) = 10000
        cc.Window.Should().Be(10_000);
        for (int i = 0; i < 9; i++)
        {
            cc.OnAck(Mss, Mss, 0, 0);
        }

        cc.Window.Should().Be(10_000);
        cc.OnAck(Mss, Mss, 0, 0); // the tenth segment completes a window
        cc.Window.Should().Be(11_000);
        for (int i = 0; i < 11; i++)
        {
            cc.OnAck(Mss, Mss, 0, 0);
        }

        cc.Window.Should().Be(12_000);
    }

    [Fact]
    public void FastRecovery_InflatesDeflatesAndExits()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.OnEnterRecovery(10_000, Mss, 0);
        cc.SlowStartThreshold.Should().Be(5000);
        cc.Window.Should().Be(8000);
        cc.OnDuplicateAckInRecovery(Mss);
        cc.Window.Should().Be(9000);
        cc.OnPartialAck(3000, Mss); // 9000 - 3000 + 1000
        cc.Window.Should().Be(7000);
        cc.OnPartialAck(500, Mss); // less than one MSS: no add-back
        cc.Window.Should().Be(6500);
        cc.OnExitRecovery(2000, Mss); // min(5000, 2000 + 1000)
        cc.Window.Should().Be(3000);
    }

    [Fact]
    public void EnterRecovery_SsthreshAtLeastTwoMss()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.OnEnterRecovery(1500, Mss, 0);
        cc.SlowStartThreshold.Should().Be(2000);
        cc.Window.Should().Be(5000);
    }

    [Fact]
    public void Timeout_CollapsesToOneMss_SsthreshOnlyOnFirstExpiry()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.OnRetransmitTimeout(10_000, Mss, firstExpiry: true);
        cc.Window.Should().Be(Mss);
        cc.SlowStartThreshold.Should().Be(5000);
        cc.OnRetransmitTimeout(1000, Mss, firstExpiry: false);
        cc.SlowStartThreshold.Should().Be(5000);
        cc.OnAck(Mss, Mss, 0, 0);
        cc.Window.Should().Be(2000); // slow start again
    }

    [Fact]
    public void IdleRestart_LimitsToInitialWindow()
    {
        var cc = new NewRenoCongestionControl(10, Mss);
        cc.OnAck(20 * Mss, Mss, 0, 0);
        cc.Window.Should().Be(30_000);
        cc.OnIdleRestart(Mss);
        cc.Window.Should().Be(10_000);
    }
}
