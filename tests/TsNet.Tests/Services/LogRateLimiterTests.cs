using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Services;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Services;

/// <summary>The per-datagram log limiter on a manual clock: one line per interval, the rest counted into the next line.</summary>
public sealed class LogRateLimiterTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void FirstLine_Passes_ThenOnePerInterval_CarryingTheSuppressedCount()
    {
        var clock = new ManualTimeProvider();
        var limiter = new LogRateLimiter(clock, Interval);

        limiter.TryAcquire(out var suppressed).Should().BeTrue("nothing was logged yet");
        suppressed.Should().Be(0);
        for (var i = 0; i < 500; i++)
        {
            limiter.TryAcquire(out _).Should().BeFalse("within the interval after a line");
        }

        clock.Advance(Interval - TimeSpan.FromTicks(1));
        limiter.TryAcquire(out _).Should().BeFalse("one tick before the interval has passed");

        clock.Advance(TimeSpan.FromTicks(1));
        limiter.TryAcquire(out suppressed).Should().BeTrue("the interval has passed");
        suppressed.Should().Be(501, "every line held back since the last one is reported");

        clock.Advance(Interval * 3);
        limiter.TryAcquire(out suppressed).Should().BeTrue();
        suppressed.Should().Be(0, "the count restarts with each line");
        limiter.TryAcquire(out _).Should().BeFalse("the interval restarts from the last line, not from the first");
    }

    [Fact]
    public void ShouldLog_DisabledLevel_IsFalse_AndDoesNotTakeTheTurn()
    {
        var clock = new ManualTimeProvider();
        var limiter = new LogRateLimiter(clock, Interval);
        var recorder = new LogRecorder();

        limiter.ShouldLog(NullLogger.Instance, LogLevel.Debug, out _).Should().BeFalse("nothing is written to a disabled logger");
        limiter.ShouldLog(recorder.CreateLogger("test"), LogLevel.Debug, out var suppressed).Should().BeTrue("a disabled logger used no turn");
        suppressed.Should().Be(0, "lines a disabled logger would not write are not counted as held back");
        limiter.ShouldLog(recorder.CreateLogger("test"), LogLevel.Trace, out _).Should().BeFalse("the recorder takes Debug and above only");
    }

    [Fact]
    public void ConcurrentCallers_WithinOneInterval_GetExactlyOneLine()
    {
        var clock = new ManualTimeProvider();
        var limiter = new LogRateLimiter(clock, Interval);
        var granted = 0;

        Parallel.For(0, 10_000, _ =>
        {
            if (limiter.TryAcquire(out _))
            {
                Interlocked.Increment(ref granted);
            }
        });

        granted.Should().Be(1);
        clock.Advance(Interval);
        limiter.TryAcquire(out var suppressed).Should().BeTrue();
        suppressed.Should().Be(9_999);
    }

    [Fact]
    public void Interval_MustBePositive()
    {
        var act = () => new LogRateLimiter(TimeProvider.System, TimeSpan.Zero);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
