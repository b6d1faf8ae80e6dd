using TsNet.Loops;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Loops;

/// <summary>The kernel's cycle, typed commands and failure policy, on a manual clock.</summary>
public sealed class LoopKernelTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Command_RunsOnTheLoop_AndReturnsItsTypedResult()
    {
        using var loop = new TestLoop(new ManualTimeProvider());
        loop.Start();

        var result = await loop.Kernel.InvokeAsync(TestLoop.Echo(42), CancellationToken.None).AsTask().WaitAsync(Bound);

        result.Should().Be(42);
        await loop.StopAsync();
    }

    [Fact]
    public async Task CallerError_FailsOnlyThatCommand()
    {
        using var loop = new TestLoop(new ManualTimeProvider());
        loop.Start();
        var refused = new DelegateLoopCommand<TestLoop, int>((_, _) => throw new ArgumentException("bad argument"));

        var act = async () => await loop.Kernel.InvokeAsync(refused, CancellationToken.None);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("bad argument");
        (await loop.Kernel.InvokeAsync(TestLoop.Echo(7), CancellationToken.None)).Should().Be(7, "the loop carries on");
        loop.Kernel.Fault.Should().BeNull();
        await loop.StopAsync();
    }

    [Fact]
    public async Task Fault_FailsRunningPendingAndLaterCommands_WithTheCause()
    {
        using var loop = new TestLoop(new ManualTimeProvider());
        var bug = new NullReferenceException("bug in the loop");
        var faults = new List<Exception>();
        loop.Kernel.Faulted += faults.Add;
        // Queued before the loop runs, so the bug runs first and two commands are still pending behind it.
        var bomb = new TestLoop.BugCommand(bug);
        await loop.Kernel.PostAsync(bomb, CancellationToken.None);
        var pending1 = TestLoop.Echo(1);
        var pending2 = TestLoop.Echo(2);
        await loop.Kernel.PostAsync(pending1, CancellationToken.None);
        await loop.Kernel.PostAsync(pending2, CancellationToken.None);

        loop.Start();
        await loop.Task!.WaitAsync(Bound);

        loop.Kernel.Fault.Should().BeSameAs(bug);
        faults.Should().Equal(bug);
        loop.FaultedWith.Should().BeOfType<InvalidOperationException>().Which.InnerException.Should().BeSameAs(bug);
        foreach (var command in new Task[] { bomb.Completion, pending1.Completion, pending2.Completion })
        {
            var failure = await command.ContinueWith(t => t.Exception!.InnerException, TaskScheduler.Default).WaitAsync(Bound);
            failure.Should().BeOfType<InvalidOperationException>().Which.InnerException.Should().BeSameAs(bug);
        }

        var later = async () => await loop.Kernel.InvokeAsync(TestLoop.Echo(3), CancellationToken.None);
        (await later.Should().ThrowAsync<InvalidOperationException>()).Which.InnerException.Should().BeSameAs(bug);
        loop.Kernel.TryPost(TestLoop.Echo(4)).Should().BeFalse();
        await loop.StopAsync();
    }

    [Fact]
    public async Task RequestFault_FaultsTheLoopWithThatCause()
    {
        using var loop = new TestLoop(new ManualTimeProvider());
        loop.Start();
        var cause = new InvalidDataException("the other loop failed");

        loop.Kernel.RequestFault(cause);
        await loop.Task!.WaitAsync(Bound);

        loop.Kernel.Fault.Should().BeSameAs(cause);
        var later = async () => await loop.Kernel.InvokeAsync(TestLoop.Echo(1), CancellationToken.None);
        (await later.Should().ThrowAsync<InvalidOperationException>()).Which.InnerException.Should().BeSameAs(cause);
    }

    [Fact]
    public async Task Stop_FailsQueuedAndLaterCommands_AsDisposed()
    {
        using var loop = new TestLoop(new ManualTimeProvider());
        var queued = TestLoop.Echo(1);
        await loop.Kernel.PostAsync(queued, CancellationToken.None);

        await loop.StopAsync();

        await FluentActions.Awaiting(() => queued.Completion).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await loop.Kernel.InvokeAsync(TestLoop.Echo(2), CancellationToken.None))
            .Should().ThrowAsync<ObjectDisposedException>();
        loop.Kernel.Fault.Should().BeNull("a stop is not a fault");
    }

    [Fact]
    public async Task Deadline_WakesTheLoop_AndIdleLoopWakesEveryFiveSeconds()
    {
        var time = new ManualTimeProvider();
        using var loop = new TestLoop(time) { Deadline = TimeSpan.FromSeconds(2).Ticks };
        loop.Start();
        await WaitUntilAsync(() => loop.Kernel.Wake.IsWaiting);
        var turns = loop.Turns;

        loop.Deadline = long.MaxValue; // read at the next turn; the timer stays armed for 2 s
        time.Advance(TimeSpan.FromSeconds(2));
        await WaitUntilAsync(() => loop.Turns > turns && loop.Kernel.Wake.IsWaiting);
        turns = loop.Turns;

        time.Advance(TimeSpan.FromSeconds(4.9));
        loop.Turns.Should().Be(turns, "nothing is due before 5 s");
        time.Advance(TimeSpan.FromSeconds(0.1));
        await WaitUntilAsync(() => loop.Turns > turns);
        await loop.StopAsync();
    }

    [Fact]
    public async Task Stop_EndsASleepingLoop()
    {
        using var loop = new TestLoop(new ManualTimeProvider());
        loop.Start();
        await WaitUntilAsync(() => loop.Kernel.Wake.IsWaiting);

        await loop.StopAsync();

        loop.Task!.IsCompletedSuccessfully.Should().BeTrue();
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            timeout.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
    }
}
