using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Tcp;

public sealed class RttEstimatorTests
{
    private static readonly long Ms = TimeSpan.TicksPerMillisecond;

    private static RttEstimator Create() => new(1000 * Ms, 200 * Ms, 120_000 * Ms, 1 * Ms);

    [Fact]
    public void BeforeSample_RtoIsInitial() => Create().Rto.Should().Be(1000 * Ms);

    [Fact]
    public void FirstSample_SetsSrttAndHalfVariance()
    {
        var rtt = Create();
        rtt.AddSample(100 * Ms);
        rtt.SmoothedRtt.Should().Be(100 * Ms);
        rtt.RttVariation.Should().Be(50 * Ms);
        rtt.Rto.Should().Be(300 * Ms); // 100 + 4 * 50
    }

    [Fact]
    public void LaterSamples_FollowRfc6298()
    {
        var rtt = Create();
        rtt.AddSample(100 * Ms);
        rtt.AddSample(200 * Ms);
        // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
        rtt.RttVariation.Should().Be(625 * Ms / 10);
        rtt.SmoothedRtt.Should().Be(1125 * Ms / 10);
        rtt.Rto.Should().Be(3625 * Ms / 10); // 112.5 + 250
    }

    [Fact]
    public void Rto_ClampedToMinimum()
    {
        var rtt = Create();
        for (int i = 0; i < 50; i++)
        {
            rtt.AddSample(1 * Ms);
        }

        rtt.Rto.Should().Be(200 * Ms);
    }

    [Fact]
    public void Rto_ClampedToMaximum()
    {
        var rtt = Create();
        rtt.AddSample(100_000 * Ms);
        rtt.Rto.Should().Be(120_000 * Ms);
    }

    [Fact]
    public void Reset_UsesFallback()
    {
        var rtt = Create();
        rtt.AddSample(10 * Ms);
        rtt.Reset(3000 * Ms);
        rtt.HasSample.Should().BeFalse();
        rtt.Rto.Should().Be(3000 * Ms);
    }

    [Fact]
    public void RetransmitTimer_BacksOffExponentiallyToMaximum()
    {
        var timer = new RetransmitTimer(120_000 * Ms);
        long now = 0;
        var timeouts = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            timer.Start(now, 1000 * Ms);
            timeouts.Add((timer.Deadline - now) / Ms);
            now = timer.Deadline;
            timer.IsExpired(now).Should().BeTrue();
            timer.OnExpired();
        }

        timeouts.Should().Equal(1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000, 120000);
        timer.Retries.Should().Be(10);
        timer.ResetBackoff();
        timer.CurrentTimeout(1000 * Ms).Should().Be(1000 * Ms);
        timer.IsRunning.Should().BeFalse();
    }

    [Fact]
    public void SipHash_PaperVector()
    {
        byte[] key = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        ulong k0 = BitConverter.ToUInt64(key, 0);
        ulong k1 = BitConverter.ToUInt64(key, 8);
        SipHash.Compute(k0, k1, Enumerable.Range(0, 15).Select(i => (byte)i).ToArray()).Should().Be(0xa129ca6149be45e5UL);
        SipHash.Compute(k0, k1, []).Should().Be(0x726fdb47dd0e0e31UL);
    }

    [Fact]
    public void Isn_ClockAdvancesEvery4Microseconds_AndDependsOnTuple()
    {
        var isn = new InitialSequenceNumber(new byte[16]);
        var a = new TcpEndpoints(TcpAddress.FromBytes([10, 0, 0, 1]), 80, TcpAddress.FromBytes([10, 0, 0, 2]), 5000);
        var b = a with { RemotePort = 5001 };
        SeqNum first = isn.Generate(a, 0);
        (isn.Generate(a, 40) - first).Should().Be(1);
        (isn.Generate(a, TimeSpan.TicksPerSecond) - first).Should().Be(250_000);
        isn.Generate(b, 0).Should().NotBe(first);
        isn.TimestampOffset(a).Should().NotBe(isn.TimestampOffset(b));
        new InitialSequenceNumber(Enumerable.Repeat((byte)1, 16).ToArray()).Generate(a, 0).Should().NotBe(first);
    }
}
