using System.Diagnostics;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Underlay;

/// <summary>
/// Moves a <see cref="ManualTimeProvider"/> forward while a test waits for something: one step whenever the awaited
/// work has not finished after a brief yield to the node's loops, bounded by real time, so timers (TCP retransmits,
/// WireGuard retries, delayed datagrams) fire without the test sleeping for them.
/// </summary>
internal static class ManualClockDriver
{
    private static readonly TimeSpan DefaultStep = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(60);

    /// <summary>Advances <paramref name="clock"/> until <paramref name="work"/> completes; returns its result.</summary>
    public static async Task<T> AdvanceUntilAsync<T>(this ManualTimeProvider clock, Task<T> work, TimeSpan? step = null, TimeSpan? bound = null)
    {
        await clock.AdvanceUntilAsync((Task)work, step, bound);
        return await work;
    }

    /// <summary>Advances <paramref name="clock"/> until <paramref name="work"/> completes (its exception, if any, is rethrown).</summary>
    public static async Task AdvanceUntilAsync(this ManualTimeProvider clock, Task work, TimeSpan? step = null, TimeSpan? bound = null)
    {
        await clock.AdvanceUntilAsync(() => work.IsCompleted, step, bound, work);
        await work;
    }

    /// <summary>Advances <paramref name="clock"/> until <paramref name="condition"/> holds.</summary>
    public static async Task AdvanceUntilAsync(this ManualTimeProvider clock, Func<bool> condition, TimeSpan? step = null, TimeSpan? bound = null, Task? wakeOn = null)
    {
        var limit = bound ?? DefaultBound;
        var elapsed = Stopwatch.StartNew();
        var advanced = TimeSpan.Zero;
        while (!condition())
        {
            if (elapsed.Elapsed > limit)
            {
                throw new TimeoutException($"condition not reached within {limit} real time ({advanced} of manual clock advanced)");
            }

            // Let the loops work through what the last step released before time moves on.
            var yield = Task.Delay(1);
            await (wakeOn is null ? yield : Task.WhenAny(wakeOn, yield));
            if (!condition())
            {
                clock.Advance(step ?? DefaultStep);
                advanced += step ?? DefaultStep;
            }
        }
    }
}
