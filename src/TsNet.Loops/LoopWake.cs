using System.Threading.Tasks.Sources;

namespace TsNet.Loops;

/// <summary>
/// The one wait of a loop task, re-armed for every sleep without allocating: producers (channel writes, commands, app
/// notifications) call <see cref="Set"/>; one <see cref="ITimer"/>, created once from the loop's
/// <see cref="TimeProvider"/>, is moved with <see cref="ITimer.Change"/> to the next deadline; one registration on
/// the stopping token, made once, ends a wait when the loop stops.
/// </summary>
/// <remarks>
/// A loop drains its inputs, then calls <see cref="WaitAsync"/>. A <see cref="Set"/> that happened at any time
/// after the previous wait returned (during the drain, or between the drain and this wait) makes the wait return at
/// once, so a wake is never lost; at worst the loop looks once more and finds nothing. Only the loop task waits,
/// and it has at most one wait outstanding.
/// </remarks>
internal sealed class LoopWake : IValueTaskSource, IDisposable
{
    /// <summary>Longest sleep with nothing scheduled: a loop never sleeps forever (design §1).</summary>
    public static readonly TimeSpan MaxIdleWait = TimeSpan.FromSeconds(5);

    private const int Idle = 0;
    private const int Waiting = 1;

    private readonly LoopClock _clock;
    private readonly ITimer _timer;
    private readonly CancellationToken _stopping;
    private readonly CancellationTokenRegistration _stoppingRegistration;

    // Continuations run on the thread pool: a producer's Set (an app thread, the timer thread) never runs the loop.
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _signaled;
    private int _state;
    private long _armedAt = long.MaxValue;
    private int _timerFired;
    private long _waits;
    private int _disposed;

    /// <summary>Creates the wait with its timer (disarmed) and its stopping registration.</summary>
    public LoopWake(LoopClock clock, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _stopping = stopping;
        _timer = clock.TimeProvider.CreateTimer(static state => ((LoopWake)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _stoppingRegistration = stopping.UnsafeRegister(static state => ((LoopWake)state!).Complete(), this);
    }

    /// <summary>Waits that actually parked the loop (returned asynchronously); for tests and diagnostics.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>True while the loop is parked in <see cref="WaitAsync"/>; for tests.</summary>
    internal bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    /// <summary>The deadline the timer is armed for (loop ticks; <see cref="long.MaxValue"/>: disarmed); for tests.</summary>
    internal long ArmedAt => Volatile.Read(ref _armedAt);

    /// <summary>Wakes the loop, or makes its next wait return at once. Thread-safe, allocation-free.</summary>
    public void Set()
    {
        Volatile.Write(ref _signaled, 1);
        Complete();
    }

    /// <summary>
    /// Parks the loop until <see cref="Set"/>, <paramref name="deadline"/> (loop ticks; clamped to
    /// <see cref="MaxIdleWait"/> from now) or the stopping token. Returns at once when a wake is pending or the loop is
    /// stopping; the caller checks the token itself. Loop task only.
    /// </summary>
    public ValueTask WaitAsync(long deadline)
    {
        if (Interlocked.Exchange(ref _signaled, 0) == 1 || _stopping.IsCancellationRequested)
        {
            return ValueTask.CompletedTask;
        }

        var now = _clock.Now;
        deadline = Math.Min(deadline, now + MaxIdleWait.Ticks);
        if (deadline <= now)
        {
            return ValueTask.CompletedTask;
        }

        Arm(deadline, now);
        _core.Reset();
        Volatile.Write(ref _state, Waiting);

        // A Set (or stop) between the exchange above and publishing Waiting saw Idle and completed nothing: look again.
        if ((Volatile.Read(ref _signaled) == 1 || _stopping.IsCancellationRequested || Volatile.Read(ref _timerFired) == 1)
            && Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
        {
            Interlocked.Exchange(ref _signaled, 0);
            return ValueTask.CompletedTask;
        }

        Interlocked.Increment(ref _waits);
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Disposes the timer and the stopping registration (after the loop task ended). Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stoppingRegistration.Dispose();
        _timer.Dispose();
        Complete();
    }

    /// <summary>
    /// Moves the timer to <paramref name="deadline"/> unless it is already armed at or before it (an earlier timer
    /// only costs one extra look), so a busy loop rarely touches the timer queue.
    /// </summary>
    private void Arm(long deadline, long now)
    {
        if (Volatile.Read(ref _timerFired) == 1)
        {
            Volatile.Write(ref _timerFired, 0);
            _armedAt = long.MaxValue;
        }

        if (_armedAt <= deadline && _armedAt > now)
        {
            return;
        }

        _armedAt = deadline;
        _timer.Change(TimeSpan.FromTicks(deadline - now), Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        Volatile.Write(ref _timerFired, 1);
        Complete();
    }

    /// <summary>Completes the outstanding wait, if any; exactly one caller wins it.</summary>
    private void Complete()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
        {
            _core.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        // The loop resumes and is about to drain: signals set until now are answered by that drain (their items were
        // queued before them), so they must not make the next wait return at once; later ones still do.
        Interlocked.Exchange(ref _signaled, 0);
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
