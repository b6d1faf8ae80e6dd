using TsNet.Loops;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Loops;

/// <summary>The kernel's one wait, on a manual clock: what wakes it, what does not, and when its timer moves.</summary>
public sealed class LoopWakeTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly ManualTimeProvider _time = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly LoopClock _clock;
    private readonly LoopWake _wake;

    public LoopWakeTests()
    {
        _clock = new LoopClock(_time);
        _wake = new LoopWake(_clock, _stopping.Token);
    }

    public void Dispose()
    {
        _wake.Dispose();
        _stopping.Dispose();
    }

    [Fact]
    public async Task Set_WhileWaiting_Wakes()
    {
        var wait = _wake.WaitAsync(long.MaxValue);
        wait.IsCompleted.Should().BeFalse();
        _wake.IsWaiting.Should().BeTrue();

        _wake.Set();

        await wait.AsTask().WaitAsync(Bound);
        _wake.Waits.Should().Be(1);
    }

    [Fact]
    public async Task Set_ThatWokeTheLoop_DoesNotAlsoEndTheNextWait()
    {
        var wait = _wake.WaitAsync(long.MaxValue);
        _wake.Set();
        await wait;

        _wake.WaitAsync(long.MaxValue).IsCompleted.Should().BeFalse("the wake-up already answered that signal");
    }

    [Fact]
    public void Set_BetweenDrainAndWait_IsNotLost()
    {
        // The producer queued and signalled after the loop's drain found nothing, before it waited.
        _wake.Set();

        var wait = _wake.WaitAsync(long.MaxValue);

        wait.IsCompletedSuccessfully.Should().BeTrue("a signal set before the wait must not be slept through");
        _wake.Waits.Should().Be(0);
    }

    [Fact]
    public void Set_IsConsumedByOneWait()
    {
        _wake.Set();
        _wake.Set();
        _wake.WaitAsync(long.MaxValue).IsCompleted.Should().BeTrue();

        var second = _wake.WaitAsync(long.MaxValue);

        second.IsCompleted.Should().BeFalse("two signals before one wait are one wake-up");
        _wake.Set();
        second.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void Deadline_Wakes_WhenTheClockReachesIt()
    {
        var wait = _wake.WaitAsync(_clock.Now + TimeSpan.FromSeconds(1).Ticks);

        _time.Advance(TimeSpan.FromMilliseconds(999));
        wait.IsCompleted.Should().BeFalse();
        _time.Advance(TimeSpan.FromMilliseconds(1));

        wait.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void PastDeadline_ReturnsAtOnce()
    {
        _time.Advance(TimeSpan.FromSeconds(1));

        _wake.WaitAsync(_clock.Now).IsCompleted.Should().BeTrue();
        _wake.WaitAsync(_clock.Now - 1).IsCompleted.Should().BeTrue();
        _time.ActiveTimers.Should().Be(0, "a wait that does not sleep arms nothing");
    }

    [Fact]
    public async Task EarlierDeadline_RearmsTheOneTimer()
    {
        var first = _wake.WaitAsync(_clock.Now + TimeSpan.FromSeconds(3).Ticks);
        _wake.Set();
        first.IsCompleted.Should().BeTrue();
        await first; // the loop resumes

        var second = _wake.WaitAsync(_clock.Now + TimeSpan.FromSeconds(1).Ticks);

        _wake.ArmedAt.Should().Be(_clock.Now + TimeSpan.FromSeconds(1).Ticks);
        _time.ActiveTimers.Should().Be(1, "one timer, moved, not one per wait");
        _time.Advance(TimeSpan.FromSeconds(1));
        second.IsCompleted.Should().BeTrue("the re-armed timer fires at the earlier deadline");
    }

    [Fact]
    public async Task LaterDeadline_KeepsTheArmedTimer()
    {
        var first = _wake.WaitAsync(_clock.Now + TimeSpan.FromSeconds(1).Ticks);
        _wake.Set();
        first.IsCompleted.Should().BeTrue();
        await first; // the loop resumes

        var second = _wake.WaitAsync(_clock.Now + TimeSpan.FromSeconds(3).Ticks);

        // An earlier timer costs one extra look at most; moving it would cost a timer-queue update per wake.
        _wake.ArmedAt.Should().Be(_clock.Now + TimeSpan.FromSeconds(1).Ticks);
        _time.Advance(TimeSpan.FromSeconds(1));
        second.IsCompleted.Should().BeTrue();
        var third = _wake.WaitAsync(_clock.Now + TimeSpan.FromSeconds(2).Ticks);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        third.IsCompleted.Should().BeFalse("after the timer fired, the next deadline arms it anew");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        third.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void NothingScheduled_SleepsAtMostFiveSeconds()
    {
        var wait = _wake.WaitAsync(long.MaxValue);

        _time.Advance(LoopWake.MaxIdleWait - TimeSpan.FromTicks(1));
        wait.IsCompleted.Should().BeFalse();
        _time.Advance(TimeSpan.FromTicks(1));

        wait.IsCompleted.Should().BeTrue("a loop never sleeps longer than 5 s (design §1)");
    }

    [Fact]
    public async Task Stopping_EndsAWait_AndLaterWaitsReturnAtOnce()
    {
        var wait = _wake.WaitAsync(long.MaxValue);

        await _stopping.CancelAsync();

        await wait.AsTask().WaitAsync(Bound);
        _wake.WaitAsync(long.MaxValue).IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void Dispose_DisposesTheTimer()
    {
        _ = _wake.WaitAsync(_clock.Now + TimeSpan.FromSeconds(1).Ticks);
        _time.ActiveTimers.Should().Be(1);

        _wake.Dispose();

        _time.ActiveTimers.Should().Be(0);
    }

    [Fact]
    public async Task ConcurrentProducers_NeverLeaveTheLoopAsleepWithWorkQueued()
    {
        // A loop that counts items; producers add and signal from other threads. Every item must be seen without
        // any timer help (the manual clock never moves), so a lost wake would hang this test.
        const int Producers = 4;
        const int ItemsEach = 20_000;
        long produced = 0;
        long consumed = 0;
        var loop = Task.Run(async () =>
        {
            while (Interlocked.Read(ref consumed) < Producers * ItemsEach)
            {
                var available = Interlocked.Read(ref produced);
                if (available > consumed)
                {
                    Interlocked.Exchange(ref consumed, available);
                    continue;
                }

                await _wake.WaitAsync(long.MaxValue);
            }
        });
        var producers = Enumerable.Range(0, Producers).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < ItemsEach; i++)
            {
                Interlocked.Increment(ref produced);
                _wake.Set();
            }
        })).ToArray();

        await Task.WhenAll(producers).WaitAsync(Bound);
        await loop.WaitAsync(TimeSpan.FromSeconds(30));
        Interlocked.Read(ref consumed).Should().Be(Producers * ItemsEach);
    }
}
