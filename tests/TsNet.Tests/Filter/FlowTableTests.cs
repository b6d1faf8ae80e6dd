using TsNet.Filter;

namespace TsNet.Tests.Filter;

/// <summary>The flow table on explicit time: use keeps flows alive, idleness expires them, the bound evicts the least recently used.</summary>
public sealed class FlowTableTests
{
    private const long Second = TimeSpan.TicksPerSecond;

    private static FlowKey Key(int i) => new(17, false, 0x64400001, 0x64400002, (ushort)(10000 + i), 53);

    [Fact]
    public void HeldFlowIsFoundAndUnknownIsNot()
    {
        var table = new FlowTable(4, 10 * Second);
        table.Touch(Key(1), 0);
        table.TryUse(Key(1), Second).Should().BeTrue();
        table.TryUse(Key(2), Second).Should().BeFalse();
        table.TryUse(Key(1) with { Protocol = 6 }, Second).Should().BeFalse();
        table.TryUse(Key(1) with { IsV6 = true }, Second).Should().BeFalse();
        table.Count.Should().Be(1);
    }

    [Fact]
    public void IdleFlowExpiresAtTheLimitNotBefore()
    {
        var table = new FlowTable(4, 10 * Second);
        table.Touch(Key(1), 0);
        table.TryUse(Key(1), 10 * Second).Should().BeTrue(); // exactly at the limit: still alive, and refreshed
        table.TryUse(Key(1), 20 * Second).Should().BeTrue();
        table.TryUse(Key(1), (30 * Second) + 1).Should().BeFalse();
        table.Count.Should().Be(0);
    }

    [Fact]
    public void OutboundTouchRefreshes()
    {
        var table = new FlowTable(4, 10 * Second);
        table.Touch(Key(1), 0);
        table.Touch(Key(1), 8 * Second);
        table.TryUse(Key(1), 17 * Second).Should().BeTrue();
        table.Count.Should().Be(1);
    }

    [Fact]
    public void FullTableEvictsTheLeastRecentlyUsed()
    {
        var table = new FlowTable(3, 100 * Second);
        table.Touch(Key(1), 1);
        table.Touch(Key(2), 2);
        table.Touch(Key(3), 3);
        table.TryUse(Key(1), 4).Should().BeTrue(); // 2 is now the least recently used
        table.Touch(Key(4), 5);
        table.Count.Should().Be(3);
        table.Evictions.Should().Be(1);
        table.TryUse(Key(2), 6).Should().BeFalse();
        table.TryUse(Key(1), 6).Should().BeTrue();
        table.TryUse(Key(3), 6).Should().BeTrue();
        table.TryUse(Key(4), 6).Should().BeTrue();
    }

    [Fact]
    public void ExpiredFlowsAreReclaimedBeforeALiveOneIsEvicted()
    {
        var table = new FlowTable(3, 10 * Second);
        table.Touch(Key(1), 0);
        table.Touch(Key(2), 0);
        table.Touch(Key(3), 15 * Second);
        table.Touch(Key(4), 15 * Second); // 1 and 2 expired: reclaimed, nothing live evicted
        table.Evictions.Should().Be(0);
        table.Count.Should().Be(2);
        table.TryUse(Key(3), 16 * Second).Should().BeTrue();
        table.TryUse(Key(4), 16 * Second).Should().BeTrue();
    }

    [Fact]
    public void ChurnFarBeyondTheBoundStaysBoundedAndConsistent()
    {
        var table = new FlowTable(64, 1000 * Second);
        for (var i = 0; i < 10_000; i++)
        {
            table.Touch(Key(i), i);
            table.Count.Should().BeLessThanOrEqualTo(64);
        }

        // The newest 64 are held, everything older was evicted.
        for (var i = 10_000 - 64; i < 10_000; i++)
        {
            table.TryUse(Key(i), 10_000).Should().BeTrue();
        }

        table.TryUse(Key(10_000 - 65), 10_000).Should().BeFalse();
        table.Evictions.Should().Be(10_000 - 64);
    }

    [Fact]
    public void TouchAndLookupAllocateNothingOnceWarm()
    {
        var table = new FlowTable(128, 1000 * Second);
        for (var i = 0; i < 256; i++)
        {
            table.Touch(Key(i), i);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            table.Touch(Key(i % 300), 300 + i);
            table.TryUse(Key((i * 7) % 300), 300 + i);
        }

        GC.GetAllocatedBytesForCurrentThread().Should().Be(before);
    }
}
