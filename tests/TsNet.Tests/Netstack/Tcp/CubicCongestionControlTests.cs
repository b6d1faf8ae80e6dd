using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>CUBIC (RFC 9438) window arithmetic against a fake clock (ticks passed as <c>now</c>).</summary>
public sealed class CubicCongestionControlTests
{
    private const int Mss = 1000;
    private const double Tolerance = 1e-6;

    private static long Seconds(double s) => (long)Math.Round(s * TimeSpan.TicksPerSecond);

    /// <summary>cwnd grown by slow start to <paramref name="segments"/>, then a loss: cwnd = ssthresh = β·W_max.</summary>
    private static CubicCongestionControl AfterLossAt(int segments)
    {
        var cc = new CubicCongestionControl(10, Mss);
        cc.OnAck((segments - 10) * Mss, Mss, 0, 0);
        cc.Window.Should().Be(segments * Mss);
        cc.OnEnterSackRecovery(segments * Mss, Mss, 0);
        cc.OnExitRecovery(segments * Mss, Mss);
        return cc;
    }

    [Fact]
    public void Constants_AreTheRfcValues()
    {
        CubicCongestionControl.C.Should().Be(0.4);
        CubicCongestionControl.Beta.Should().Be(0.7);
        CubicCongestionControl.RenoFriendlyAlpha.Should().BeApproximately(0.5294117647058824, 1e-15); // 3(1 − β)/(1 + β)
    }

    [Theory]
    [InlineData(0.0, 70.00000000000001)]
    [InlineData(1.0, 86.68076383512988)]
    [InlineData(2.0, 95.64033568663878)]
    [InlineData(4.217163326508746, 100.0)] // t = K: the plateau at W_max
    [InlineData(5.0, 100.1918993394395)]
    [InlineData(6.0, 102.26670325646442)]
    public void CubicWindow_KnownValues_Wmax100(double t, double expected)
    {
        double k = CubicCongestionControl.TimeToOrigin(100, 70);
        k.Should().BeApproximately(4.217163326508746, 1e-12); // ∛(30 / 0.4)
        CubicCongestionControl.CubicWindow(t, k, 100).Should().BeApproximately(expected, 1e-9);
    }

    [Fact]
    public void Loss_SetsSsthreshToBetaCwnd_AndRemembersWmax()
    {
        var cc = new CubicCongestionControl(10, Mss);
        cc.OnAck(90 * Mss, Mss, 0, 0);
        cc.OnEnterSackRecovery(100 * Mss, Mss, 0);
        cc.SlowStartThreshold.Should().Be(70 * Mss);
        cc.Window.Should().Be(70 * Mss);
        cc.WindowMax.Should().Be(100 * Mss);
    }

    [Fact]
    public void Loss_BelowPreviousWmax_FastConvergence()
    {
        var cc = AfterLossAt(100); // W_max 100
        cc.OnEnterSackRecovery(70 * Mss, Mss, 0); // a second loss at cwnd 70 < W_max
        cc.WindowMax.Should().BeApproximately(70 * Mss * 1.7 / 2, Tolerance); // 59.5 segments: release bandwidth to newer flows
        cc.SlowStartThreshold.Should().Be(49 * Mss);
        cc.Window.Should().Be(49 * Mss);
    }

    [Fact]
    public void Loss_NeverBelowTwoSegments()
    {
        var cc = new CubicCongestionControl(2, Mss);
        cc.OnEnterSackRecovery(2 * Mss, Mss, 0);
        cc.SlowStartThreshold.Should().Be(2 * Mss);
    }

    [Fact]
    public void NewRenoStyleRecovery_InflatesByThreeSegments()
    {
        var cc = new CubicCongestionControl(10, Mss);
        cc.OnAck(90 * Mss, Mss, 0, 0);
        cc.OnEnterRecovery(100 * Mss, Mss, 0);
        cc.Window.Should().Be(73 * Mss);
        cc.OnDuplicateAckInRecovery(Mss);
        cc.Window.Should().Be(74 * Mss);
        cc.OnExitRecovery(100 * Mss, Mss);
        cc.Window.Should().Be(70 * Mss);
    }

    [Fact]
    public void Timeout_CollapsesToOneSegment_SsthreshByBetaOnce()
    {
        var cc = new CubicCongestionControl(10, Mss);
        cc.OnAck(90 * Mss, Mss, 0, 0);
        cc.OnRetransmitTimeout(100 * Mss, Mss, firstExpiry: true);
        cc.Window.Should().Be(Mss);
        cc.SlowStartThreshold.Should().Be(70 * Mss);
        cc.WindowMax.Should().Be(100 * Mss);
        cc.OnRetransmitTimeout(Mss, Mss, firstExpiry: false);
        cc.SlowStartThreshold.Should().Be(70 * Mss, "a repeated expiry of the same segment does not shrink ssthresh again");

        // Slow start back to ssthresh, then the cubic resumes below W_max (concave).
        cc.OnAck(69 * Mss, Mss, Seconds(1), Seconds(0.1));
        cc.Window.Should().Be(70 * Mss);
    }

    [Fact]
    public void ConcaveThenConvex_WindowFollowsCubicOfTPlusRtt()
    {
        // One stretch ACK per window every RTT: each moves cwnd (almost exactly) to the target W_cubic(t + RTT).
        var cc = AfterLossAt(100);
        double rtt = 0.1;
        double k = CubicCongestionControl.TimeToOrigin(100, 70);
        double previous = cc.Window;
        double previousGrowth = double.MaxValue;
        bool sawConvex = false;
        // Up to 5.7 s: from 5.8 s W_est (past W_max, so +1 segment per RTT) overtakes the still flat convex start.
        for (int i = 0; i <= 57; i++)
        {
            double t = i * rtt;
            double before = cc.Window;
            cc.OnAck(cc.Window, Mss, Seconds(t), Seconds(rtt));
            double target = Math.Clamp(CubicCongestionControl.CubicWindow(t + rtt, k, 100) * Mss, before, 1.5 * before);
            bool renoFriendly = CubicCongestionControl.CubicWindow(t, k, 100) * Mss < cc.RenoEstimate;
            double expected = renoFriendly ? Math.Max(before, cc.RenoEstimate) : target;
            cc.Window.Should().BeInRange((int)expected - 1, (int)expected, $"t = {t:F1} s");
            if (i == 0)
            {
                renoFriendly.Should().BeTrue("at t = 0 the cubic is still at cwnd_epoch while W_est already grew");
            }
            else
            {
                renoFriendly.Should().BeFalse("with W_max 100 and a 100 ms RTT the cubic outgrows Reno's estimate");
            }

            double growth = cc.Window - previous;
            if (t + rtt < k - rtt)
            {
                cc.Window.Should().BeLessThan(100 * Mss, "concave region: below W_max");
                growth.Should().BeLessThanOrEqualTo(previousGrowth + 1, "concave: growth slows towards the plateau");
            }
            else if (t > k + rtt)
            {
                cc.Window.Should().BeGreaterThan(100 * Mss, "convex region: probing above W_max");
                if (t > k + (3 * rtt))
                {
                    growth.Should().BeGreaterThanOrEqualTo(previousGrowth - 1, "convex: growth speeds up");
                    sawConvex = true;
                }
            }

            previousGrowth = i == 0 ? double.MaxValue : growth; // the first step was Reno-friendly
            previous = cc.Window;
        }

        sawConvex.Should().BeTrue();
        cc.K.Should().BeApproximately(k, 1e-12);

        // 5.8 s: W_cubic(5.8) ≈ 101.59 segments < W_est ≈ 102.18: the Reno-friendly region takes over.
        cc.OnAck(cc.Window, Mss, Seconds(5.8), Seconds(rtt));
        (CubicCongestionControl.CubicWindow(5.8, k, 100) * Mss).Should().BeLessThan(cc.RenoEstimate);
        cc.Window.Should().Be((int)cc.RenoEstimate);
    }

    [Fact]
    public void Target_ClampedToOneAndAHalfCwnd()
    {
        // With a 10 s RTT the target W_cubic(t + RTT) lies far in the convex region: one window of ACKs adds at most half.
        var cc = AfterLossAt(100);
        cc.OnAck(1, Mss, Seconds(0), Seconds(10)); // the epoch begins (t = 0 is Reno-friendly: W_est ≥ W_cubic(0) = cwnd)
        double before = 70 * Mss;
        cc.Window.Should().Be((int)before);
        CubicCongestionControl.CubicWindow(1 + 10, cc.K, 100).Should().BeGreaterThan(1.5 * 70);
        cc.OnAck(cc.Window, Mss, Seconds(1), Seconds(10));
        cc.Window.Should().BeInRange((int)(1.5 * before) - 1, (int)(1.5 * before));
    }

    [Fact]
    public void RenoFriendlyRegion_FollowsWest_AlphaCubicThenOne()
    {
        // Small W_max and a 10 ms RTT: Reno's estimate outgrows the cubic at once.
        var cc = AfterLossAt(20); // W_max 20, cwnd 14
        double k = CubicCongestionControl.TimeToOrigin(20, 14);
        double rtt = 0.01;
        double west = 14 * Mss; // the RFC's W_est, advanced per ACK below
        double cwnd = 14 * Mss;
        for (int i = 0; i < 30; i++)
        {
            double t = i * rtt;
            double window = cwnd;
            for (int acked = 0; acked < window; acked += Mss)
            {
                // One window of single-segment ACKs per round trip (a reference model of RFC 9438 §4.3–4.4).
                double alpha = west >= 20 * Mss ? 1 : CubicCongestionControl.RenoFriendlyAlpha;
                west += alpha * Mss * Mss / cwnd;
                double cubicNow = CubicCongestionControl.CubicWindow(t, k, 20) * Mss;
                double target = Math.Clamp(CubicCongestionControl.CubicWindow(t + rtt, k, 20) * Mss, cwnd, 1.5 * cwnd);
                cwnd = cubicNow < west ? Math.Max(cwnd, west) : cwnd + ((target - cwnd) * Mss / cwnd);

                cc.OnAck(Mss, Mss, Seconds(t), Seconds(rtt));
                cc.RenoEstimate.Should().BeApproximately(west, Tolerance);
                cc.Window.Should().Be((int)cwnd);
            }

            if (i == 0)
            {
                // W_cubic(0) = 14 < W_est: the Reno-friendly region from the first ACK.
                CubicCongestionControl.CubicWindow(0, k, 20).Should().BeApproximately(14, 1e-9);
                cc.Window.Should().Be((int)west);
            }
        }

        cc.RenoEstimate.Should().BeGreaterThan(30 * Mss, "W_est passed W_max after ~11 round trips, then grew by one segment per round trip");
        CubicCongestionControl.CubicWindow(0.3, k, 20).Should().BeLessThan(cc.RenoEstimate / Mss);
    }

    [Fact]
    public void SlowStart_UntilSsthresh_ThenEpochBegins()
    {
        var cc = AfterLossAt(100);
        cc.OnRetransmitTimeout(70 * Mss, Mss, firstExpiry: true); // ssthresh 49, W_max 59.5 (fast convergence)
        cc.OnAck(50 * Mss, Mss, Seconds(2), Seconds(0.1)); // 48 segments of slow start, 2 of avoidance
        cc.K.Should().BeApproximately(CubicCongestionControl.TimeToOrigin(59.5, 49), 1e-12);
        cc.Window.Should().BeGreaterThan(49 * Mss).And.BeLessThan(50 * Mss);
    }

    [Fact]
    public void IdleRestart_CapsAtInitialWindow_AndRestartsTheEpoch()
    {
        var cc = AfterLossAt(100);
        cc.OnAck(cc.Window, Mss, Seconds(0), Seconds(0.1));
        cc.OnIdleRestart(Mss);
        cc.Window.Should().Be(10 * Mss);
    }

    [Fact]
    public void LossRepairedByProbe_ReducesOnce()
    {
        var cc = new CubicCongestionControl(10, Mss);
        cc.OnLossRepaired(Mss, 0);
        cc.Window.Should().Be(7 * Mss);
        cc.SlowStartThreshold.Should().Be(7 * Mss);
    }
}

/// <summary>The connection's use of its congestion controller: which algorithm, and the restart after idling.</summary>
public sealed class ConnectionCongestionTests
{
    [Fact]
    public void Connection_DefaultsToCubic_ConfigSelectsNewReno()
    {
        TcpConfig.Default.CongestionControl.Should().Be(CongestionControlAlgorithm.Cubic);
        TcpTestHarness.Established(TcpConfig.Default).Connection.Congestion.Should().BeOfType<CubicCongestionControl>();
        var reno = TcpConfig.Default with { CongestionControl = CongestionControlAlgorithm.NewReno };
        TcpTestHarness.Established(reno).Connection.Congestion.Should().BeOfType<NewRenoCongestionControl>();
    }

    [Fact]
    public void Config_RejectsUnknownAlgorithm()
    {
        var bad = TcpConfig.Default with { CongestionControl = (CongestionControlAlgorithm)42 };
        FluentActions.Invoking(bad.Validate).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IdleLongerThanRto_RestartsFromInitialWindow(bool cubic)
    {
        const int Mss = 1240;
        var config = TcpTestHarness.Plain with { CongestionControl = cubic ? CongestionControlAlgorithm.Cubic : CongestionControlAlgorithm.NewReno };
        int Burst(TcpTestHarness h, long idle)
        {
            h.Write(10 * Mss);
            h.Send().Should().HaveCount(10);
            h.Advance(TcpTestHarness.Ms(10));
            h.Recv(TcpTestHarness.RecvTemplate with { AcknowledgmentNumber = h.Connection.SendNext });
            h.Connection.Congestion.Window.Should().Be(20 * Mss, "slow start doubled the window");
            h.Advance(idle);
            h.Write(30 * Mss);
            return h.Send().Count;
        }

        // RTO is 200 ms (the handshake's RTT sample was 0).
        Burst(TcpTestHarness.Established(config), idle: TcpTestHarness.Ms(100)).Should().Be(20);
        Burst(TcpTestHarness.Established(config), idle: TcpTestHarness.Ms(300)).Should().Be(10, "RFC 5681 §4.1: restart window = min(IW, cwnd)");
    }
}
