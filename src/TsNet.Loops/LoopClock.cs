namespace TsNet.Loops;

/// <summary>
/// The one time unit of every loop and its core: 100 ns ticks (<see cref="TimeSpan.Ticks"/>) since the loop's origin,
/// read from the loop's <see cref="System.TimeProvider"/>. Cores that take a tick frequency are given
/// <see cref="TicksPerSecond"/>.
/// </summary>
internal sealed class LoopClock
{
    /// <summary>Ticks per second of <see cref="Now"/>.</summary>
    public const long TicksPerSecond = TimeSpan.TicksPerSecond;

    private readonly long _origin;

    /// <summary>Starts the clock at 0 now.</summary>
    public LoopClock(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        TimeProvider = timeProvider;
        _origin = timeProvider.GetTimestamp();
        WallClockOrigin = timeProvider.GetUtcNow();
    }

    /// <summary>Where the time comes from (and the loop's timer).</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Wall-clock time of tick 0, so a loop timestamp converts to the same wall time every time.</summary>
    public DateTimeOffset WallClockOrigin { get; }

    /// <summary>Ticks since the origin. Thread-safe.</summary>
    public long Now => TimeProvider.GetElapsedTime(_origin).Ticks;

    /// <summary>A span in loop ticks, saturating at <see cref="long.MaxValue"/> for <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public static long ToTicks(TimeSpan span) => span == Timeout.InfiniteTimeSpan ? long.MaxValue : span.Ticks;
}
