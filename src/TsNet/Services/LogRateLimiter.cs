using Microsoft.Extensions.Logging;

namespace TsNet.Services;

/// <summary>
/// Bounds the volume of a log line written per datagram: at most one line per <see cref="Interval"/> (on a
/// <see cref="TimeProvider"/>), and the line that gets through reports how many it stood for. One instance per
/// association or mapping, so a noisy one cannot hide the others. Lock- and allocation-free; safe to use from the
/// several loops of one owner.
/// </summary>
internal sealed class LogRateLimiter
{
    /// <summary>The interval of the per-datagram logs in the services: a flood reads as one line per 10 s.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _timeProvider;
    private readonly long _intervalTicks;
    private long _nextAllowed = long.MinValue;
    private long _suppressed;

    public LogRateLimiter(TimeProvider timeProvider, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _timeProvider = timeProvider;
        Interval = interval;
        _intervalTicks = (long)((Int128)interval.Ticks * timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);
    }

    /// <summary>The shortest time between two lines.</summary>
    public TimeSpan Interval { get; }

    /// <summary>
    /// Whether to write the line now: <paramref name="logger"/> takes <paramref name="level"/> and the interval since
    /// the last line has passed. Checked before the line's arguments are built, so a suppressed or disabled line costs
    /// no formatting. When true, <paramref name="suppressed"/> is the number of lines held back since the last one.
    /// </summary>
    public bool ShouldLog(ILogger logger, LogLevel level, out long suppressed)
    {
        suppressed = 0;
        return logger.IsEnabled(level) && TryAcquire(out suppressed);
    }

    /// <summary>Takes the turn to write a line, or counts one more held back; see <see cref="ShouldLog"/>.</summary>
    public bool TryAcquire(out long suppressed)
    {
        var now = _timeProvider.GetTimestamp();
        var next = Volatile.Read(ref _nextAllowed);
        if (now < next || Interlocked.CompareExchange(ref _nextAllowed, now + _intervalTicks, next) != next)
        {
            // Within the interval, or another loop took this turn a moment ago.
            Interlocked.Increment(ref _suppressed);
            suppressed = 0;
            return false;
        }

        suppressed = Interlocked.Exchange(ref _suppressed, 0);
        return true;
    }
}
