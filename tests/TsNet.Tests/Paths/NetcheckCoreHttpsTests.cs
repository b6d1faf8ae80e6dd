using TsNet.Paths;

namespace TsNet.Tests.Paths;

/// <summary>
/// <see cref="NetcheckCore"/>'s HTTPS latency input (derp.md §6.4: when UDP is blocked, HTTPS latency to
/// <c>/derp/latency-check</c> is used) on the manual clock.
/// </summary>
public sealed partial class NetcheckCoreTests
{
    [Fact]
    public void RegionWithoutStunAnswer_IsListedAfterTheReport_AndItsHttpsLatencyMovesTheHome()
    {
        var finished = new List<long>();
        _core.ReportFinished += finished.Add;
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((1, 40));

        finished.Should().Equal(_now);
        _core.HomeRegion.Should().Be(1);
        _core.RegionsWithoutStun.Should().Equal(2);
        int version = _core.Version;

        _core.ReportHttpsLatency(2, TimeSpan.FromMilliseconds(10), _now).Should().BeTrue();

        _core.RegionLatencies.Should().BeEquivalentTo(new Dictionary<int, TimeSpan>
        {
            [1] = TimeSpan.FromMilliseconds(40),
            [2] = TimeSpan.FromMilliseconds(10),
        });
        _core.HomeRegion.Should().Be(2, "10 ms over HTTPS beats 40 ms over STUN by 30 ms and a third");
        _core.Version.Should().Be(version + 1);
        _core.RegionsWithoutStun.Should().BeEmpty();
        _core.NextDeadline.Should().Be(_now, "the home change is due for the caller's next poll");
        Turn();
        _core.NextDeadline.Should().BeGreaterThan(_now);
    }

    [Fact]
    public void HttpsLatency_IsIgnored_ForRegionsThatAnsweredStun_AndTwiceForTheSameRegion()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((1, 40));

        _core.ReportHttpsLatency(1, TimeSpan.FromMilliseconds(1), _now).Should().BeFalse("region 1 answered STUN");
        _core.ReportHttpsLatency(2, TimeSpan.FromMilliseconds(50), _now).Should().BeTrue();
        _core.ReportHttpsLatency(2, TimeSpan.FromMilliseconds(1), _now).Should().BeFalse("one HTTPS latency per region and report");
        _core.ReportHttpsLatency(3, TimeSpan.FromMilliseconds(1), _now).Should().BeFalse("not in the map");

        _core.RegionLatencies[1].Should().Be(TimeSpan.FromMilliseconds(40));
        _core.RegionLatencies[2].Should().Be(TimeSpan.FromMilliseconds(50));
        _core.HomeRegion.Should().Be(1);
    }

    [Fact]
    public void RegionsWithoutStunServers_AreReportedAtOnce_AndHttpsChoosesTheHomeWithHysteresis()
    {
        _core.SetTargets([Target(1, default), Target(2, default)], _now);
        Turn();

        _output.Sent.Should().BeEmpty("no region has a STUN server");
        _core.ReportCount.Should().Be(1);
        _core.RegionsWithoutStun.Should().Equal(1, 2);
        _core.HomeRegion.Should().Be(1, "nothing measured yet: the lowest region");

        _core.ReportHttpsLatency(2, TimeSpan.FromMilliseconds(20), _now).Should().BeTrue();
        _core.HomeRegion.Should().Be(2, "the old home has no latency in this report");
        _core.ReportHttpsLatency(1, TimeSpan.FromMilliseconds(15), _now).Should().BeTrue();
        _core.HomeRegion.Should().Be(2, "5 ms better is not enough to switch");

        _now = _core.NextDeadline;
        Turn();
        _now = _core.NextDeadline;
        Turn();
        _core.ReportCount.Should().Be(2);
        _core.RegionsWithoutStun.Should().Equal(1, 2);
        _core.HomeRegion.Should().Be(2, "a report without answers keeps the home");
    }

    [Fact]
    public void LateHttpsLatency_AfterTheNextReportStarted_IsIgnored()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((1, 30));
        _core.RegionsWithoutStun.Should().Equal(2);

        _now = _core.NextDeadline;
        Turn();

        _output.Sent.Last().At.Should().Be(_now, "the next report is running");
        _core.RegionsWithoutStun.Should().BeEmpty();
        _core.ReportHttpsLatency(2, TimeSpan.FromMilliseconds(1), _now).Should().BeFalse();
        _core.RegionLatencies.Should().NotContainKey(2);
    }

    [Fact]
    public void NewTargets_ForgetTheRegionsWaitingForHttps()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((1, 30));

        _core.SetTargets([Target(1, Stun1)], _now);

        _core.RegionsWithoutStun.Should().BeEmpty();
        _core.ReportHttpsLatency(2, TimeSpan.FromMilliseconds(1), _now).Should().BeFalse();
        _core.NextDeadline.Should().Be(_now, "a changed map starts a report");
    }
}
