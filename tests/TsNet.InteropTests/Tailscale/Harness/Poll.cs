using System.Diagnostics;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>Waits for a condition on something the test can only observe by asking (the admin API), bounded.</summary>
public static class Poll
{
    /// <summary>
    /// Calls <paramref name="probe"/> every <paramref name="interval"/> (default 200 ms) until <paramref name="condition"/>
    /// holds for its answer and returns that answer; throws with the last answer when <paramref name="timeout"/> passes.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        Func<CancellationToken, Task<T>> probe,
        Func<T, bool> condition,
        TimeSpan timeout,
        string description,
        CancellationToken cancellationToken = default,
        TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe(cancellationToken);
            if (condition(value))
            {
                return value;
            }

            if (clock.Elapsed >= timeout)
            {
                throw new TimeoutException($"not {description} within {timeout.TotalSeconds:0} s; last: {Describe(value)}");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    private static string Describe<T>(T value) =>
        value is System.Collections.IEnumerable items and not string
            ? "[" + string.Join(", ", items.Cast<object>()) + "]"
            : value?.ToString() ?? "null";
}
