using TsNet.Control.Protocol;

namespace TsNet.Control.Client;

/// <summary>
/// Fires once when the self node's key expiry (from the netmap) passes on the local clock: the servers' own clocks
/// are not trusted (the Go test server's <c>ControlTime</c> is a fixed date). Long waits are split into steps of at
/// most a day (timers take at most about 49 days).
/// </summary>
internal sealed class KeyExpiryTimer : IDisposable
{
    private static readonly TimeSpan MaxStep = TimeSpan.FromDays(1);

    private readonly TimeProvider _time;
    private readonly Action _expired;
    private readonly ITimer _timer;
    private long _expiresAtTicks = long.MaxValue;

    /// <summary>Creates the timer, disarmed; <paramref name="expired"/> runs on a timer thread.</summary>
    public KeyExpiryTimer(TimeProvider time, Action expired)
    {
        _time = time;
        _expired = expired;
        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Arms for <paramref name="keyExpiry"/> (null or Go's zero time: never); true when it has passed already.</summary>
    public bool Arm(DateTimeOffset? keyExpiry)
    {
        if (GoTimeJsonConverter.IsZero(keyExpiry))
        {
            Interlocked.Exchange(ref _expiresAtTicks, long.MaxValue);
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return false;
        }

        var at = keyExpiry!.Value;
        Interlocked.Exchange(ref _expiresAtTicks, at.UtcTicks);
        var due = at - _time.GetUtcNow();
        if (due <= TimeSpan.Zero)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return true;
        }

        _timer.Change(due < MaxStep ? due : MaxStep, Timeout.InfiniteTimeSpan);
        return false;
    }

    /// <summary>Disarms for good.</summary>
    public void Dispose() => _timer.Dispose();

    private void OnTimer()
    {
        var at = Interlocked.Read(ref _expiresAtTicks);
        if (at == long.MaxValue)
        {
            return;
        }

        var due = new DateTimeOffset(at, TimeSpan.Zero) - _time.GetUtcNow();
        if (due <= TimeSpan.Zero)
        {
            _expired();
            return;
        }

        _timer.Change(due < MaxStep ? due : MaxStep, Timeout.InfiniteTimeSpan);
    }
}
