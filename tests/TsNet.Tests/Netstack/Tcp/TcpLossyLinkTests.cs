using TsNet.Netstack.Tcp;
using Xunit.Abstractions;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>Whole-connection tests: two TcpConnections over a lossy, reordering, duplicating link in virtual time.</summary>
public sealed class TcpLossyLinkTests(ITestOutputHelper output)
{
    private static readonly int Scale = TestScale.Factor;

    [Fact]
    public void CleanLink_TransfersByteExact()
    {
        var sim = new TcpLinkSimulator(seed: 1, bytes: 256 * 1024 * Scale, TcpConfig.Default) { Jitter = 0 };
        sim.Run(TimeSpan.FromSeconds(30).Ticks);
        Report(sim);
        sim.Completed.Should().BeTrue();
        sim.HashMatches.Should().BeTrue();
        sim.Client.Counters.Retransmissions.Should().Be(0);
        sim.Server!.Counters.OutOfOrderSegments.Should().Be(0);
    }

    [Fact]
    public void LongFatLink_AutotunesBuffersBeyond64KiB()
    {
        // 100 ms RTT: a fixed 64 KiB window would cap the flow at 640 KiB/s, i.e. ≥ 6.4 s for 4 MiB.
        var sim = new TcpLinkSimulator(seed: 2, bytes: 4 * 1024 * 1024, TcpConfig.Default)
        {
            BaseDelay = TimeSpan.FromMilliseconds(50).Ticks,
            Jitter = 0,
        };
        sim.Run(TimeSpan.FromSeconds(60).Ticks);
        Report(sim);
        output.WriteLine($"server receive buffer {sim.Server!.ReceiveBufferCapacity}, client send buffer {sim.Client.SendBufferCapacity}");
        sim.Completed.Should().BeTrue();
        sim.HashMatches.Should().BeTrue();
        sim.Server!.ReceiveBufferCapacity.Should().BeGreaterThan(64 * 1024);
        sim.Client.SendBufferCapacity.Should().BeGreaterThan(64 * 1024);
        TimeSpan.FromTicks(sim.Now).Should().BeLessThan(TimeSpan.FromSeconds(4));
    }

    [Theory]
    [InlineData(42)]
    [InlineData(7)]
    public void LossyLink_1MB_5PercentLoss_Reordering_Duplicates(int seed)
    {
        var sim = new TcpLinkSimulator(seed, bytes: 1024 * 1024 * Scale, TcpConfig.Default)
        {
            LossRate = 0.05,
            DuplicateRate = 0.01,
        };
        sim.Run(TimeSpan.FromSeconds(300 * Scale).Ticks);
        Report(sim);
        sim.ReceivedBytes.Should().Be(1024 * 1024 * Scale);
        sim.HashMatches.Should().BeTrue();
        sim.Completed.Should().BeTrue();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bidirectional_512KiBEachWay_5PercentLoss(bool sack)
    {
        var config = new TcpConfig { Sack = sack };
        var sim = new TcpLinkSimulator(seed: 17, bytes: 512 * 1024 * Scale, config)
        {
            ServerBytes = 512 * 1024 * Scale,
            LossRate = 0.05,
            DuplicateRate = 0.01,
        };
        sim.Run(TimeSpan.FromSeconds(300 * Scale).Ticks);
        Report(sim);
        sim.ClientReceivedBytes.Should().Be(512 * 1024 * Scale);
        sim.HashMatches.Should().BeTrue();
        sim.Completed.Should().BeTrue();
    }

    [Fact]
    public void LossyLink_WithoutOptions_StillCompletes()
    {
        var config = new TcpConfig { Timestamps = false, Sack = false, WindowScaling = false };
        var sim = new TcpLinkSimulator(seed: 3, bytes: 512 * 1024 * Scale, config) { LossRate = 0.05, DuplicateRate = 0.01 };
        sim.Run(TimeSpan.FromSeconds(300 * Scale).Ticks);
        Report(sim);
        sim.HashMatches.Should().BeTrue();
        sim.Completed.Should().BeTrue();
    }

    [Fact]
    public void ReceiverStallsFor30s_ZeroWindowProbesThenResumes()
    {
        var config = new TcpConfig { ReceiveBufferSize = 16 * 1024, MaxReceiveBufferSize = 16 * 1024 };
        var sim = new TcpLinkSimulator(seed: 21, bytes: 256 * 1024, config)
        {
            LossRate = 0.05,
            ServerReadsFrom = TimeSpan.FromSeconds(30).Ticks,
        };
        sim.Run(TimeSpan.FromSeconds(600).Ticks);
        Report(sim);
        sim.HashMatches.Should().BeTrue();
        sim.Completed.Should().BeTrue();
        sim.Now.Should().BeGreaterThan(TimeSpan.FromSeconds(30).Ticks);
        sim.Now.Should().BeLessThan(TimeSpan.FromSeconds(40).Ticks); // the window update (or a probe) restarts it promptly
        sim.Client.Error.Should().Be(TcpError.None);
    }

    [Fact]
    public void HeavyLoss_20Percent_StillCompletes()
    {
        var sim = new TcpLinkSimulator(seed: 11, bytes: 128 * 1024 * Scale, TcpConfig.Default) { LossRate = 0.2, DuplicateRate = 0.02 };
        sim.Run(TimeSpan.FromSeconds(1200 * Scale).Ticks);
        Report(sim);
        sim.HashMatches.Should().BeTrue();
        sim.Completed.Should().BeTrue();
    }

    private void Report(TcpLinkSimulator sim)
    {
        var c = sim.Client.Counters;
        output.WriteLine(
            $"virtual {TimeSpan.FromTicks(sim.Now).TotalSeconds:F2} s, {sim.ReceivedBytes} bytes, {sim.SegmentsOnLink} segments ({sim.SegmentsLost} lost), "
            + $"client retransmissions {c.Retransmissions}, timeouts {c.RetransmitTimeouts}, fast retransmits {c.FastRetransmits}, "
            + $"server out-of-order {sim.Server?.Counters.OutOfOrderSegments}, duplicates {sim.Server?.Counters.DuplicateSegments}, "
            + $"client {sim.Client.State}/{sim.Client.Error}, server {sim.Server?.State}/{sim.Server?.Error}");
    }
}
