using TsNet.Loops;

namespace TsNet.Tests.Loops;

/// <summary>Alone in the process: allocations are counted process-wide, so no other test may run meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoopAllocationCollection
{
    public const string Name = "Loop allocations";
}

/// <summary>A wake-up of the kernel allocates nothing (the old loops allocated a TCS, a linked CTS, a Task.Delay and a WhenAny per wake).</summary>
[Collection(LoopAllocationCollection.Name)]
public sealed class LoopAllocationTests
{
    private const int WakesPerWindow = 3_000;

    [Fact]
    public async Task Wake_ByProducerAndTimer_AllocatesUnder64BytesAmortised()
    {
        using var loop = new TestLoop(TimeProvider.System) { Deadline = long.MaxValue };
        loop.Start();
        // Warm up: JIT, tiering, the state machine box of the loop task.
        Drive(loop, 1_000);

        var waitsBefore = loop.Kernel.Wake.Waits;
        var (perWake, windows) = ProcessAllocations.PerOperation(3, WakesPerWindow, rounds => Drive(loop, rounds));

        perWake.Should().BeLessThan(64, $"a wake re-arms one wait and one timer instead of allocating new ones (windows: {ProcessAllocations.Describe(windows)} bytes per wake)");
        (loop.Kernel.Wake.Waits - waitsBefore).Should().BeGreaterThanOrEqualTo(3 * WakesPerWindow, "every round parked the loop and woke it");
        await loop.StopAsync();
    }

    /// <summary>
    /// Each round: wait (busy, allocation-free) until the loop is parked, then wake it — by a producer, or (every other
    /// round) by a producer and then by the timer, re-armed for a deadline 1 ms away — and wait for its turns.
    /// </summary>
    private static void Drive(TestLoop loop, int rounds)
    {
        var deadline = Environment.TickCount64 + 60_000;
        for (var i = 0; i < rounds; i++)
        {
            while (!loop.Kernel.Wake.IsWaiting)
            {
                Check(deadline);
            }

            var turns = loop.Turns;
            var timerRound = (i & 1) == 1;
            if (timerRound)
            {
                loop.Deadline = loop.Kernel.Now + TimeSpan.FromMilliseconds(1).Ticks;
            }

            loop.Kernel.Wake.Set();
            while (loop.Turns < turns + (timerRound ? 2 : 1))
            {
                Check(deadline);
            }

            loop.Deadline = long.MaxValue;
        }
    }

    private static void Check(long deadline)
    {
        if (Environment.TickCount64 > deadline)
        {
            throw new TimeoutException("The loop stopped waking.");
        }
    }
}
