namespace TsNet.Control.Client;

/// <summary>
/// Delays between control reconnects: exponential from <see cref="Initial"/>, doubling per failure up to
/// <see cref="Cap"/>, each delay drawn uniformly from the upper half of its step (jitter: many nodes that lost the
/// same server do not come back in lock step). <see cref="Reset"/> after a healthy stream. Sans-IO: the caller
/// waits (on its <see cref="TimeProvider"/>). Not thread-safe: the session task owns it.
/// </summary>
internal sealed class ControlBackoff
{
    private readonly Random _random;
    private int _failures;

    /// <summary>Creates a backoff; <paramref name="random"/> is for tests (a seeded one), else a shared one.</summary>
    public ControlBackoff(TimeSpan? initial = null, TimeSpan? cap = null, Random? random = null)
    {
        Initial = initial ?? TimeSpan.FromSeconds(1);
        Cap = cap ?? TimeSpan.FromSeconds(30);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(Cap, Initial);
        _random = random ?? Random.Shared;
    }

    /// <summary>The first step (Go's control client starts near 1 s).</summary>
    public TimeSpan Initial { get; }

    /// <summary>The largest step (Go caps control reconnects at 30 s, doc §13 step 9).</summary>
    public TimeSpan Cap { get; }

    /// <summary>Failures since the last <see cref="Reset"/>.</summary>
    public int Failures => _failures;

    /// <summary>The step (before jitter) the next <see cref="Next"/> draws from.</summary>
    public TimeSpan CurrentStep
    {
        get
        {
            // 2^n overflows long before it matters: past 30 doublings the cap has long been reached.
            var doublings = Math.Min(_failures, 30);
            var ticks = Initial.Ticks * (double)(1L << doublings);
            return ticks >= Cap.Ticks ? Cap : TimeSpan.FromTicks((long)ticks);
        }
    }

    /// <summary>The delay before the next attempt, in [step/2, step]; counts a failure.</summary>
    public TimeSpan Next()
    {
        var step = CurrentStep;
        _failures++;
        var half = step.Ticks / 2;
        return TimeSpan.FromTicks(half + (long)(_random.NextDouble() * (step.Ticks - half)));
    }

    /// <summary>A stream was healthy: the next failure waits the shortest step again.</summary>
    public void Reset() => _failures = 0;
}
