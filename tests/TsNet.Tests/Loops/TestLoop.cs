using TsNet.Loops;

namespace TsNet.Tests.Loops;

/// <summary>A minimal loop on the kernel: runs commands, counts its turns, and sleeps until <see cref="Deadline"/>.</summary>
internal sealed class TestLoop : ILoopBody, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private long _turns;

    public TestLoop(TimeProvider timeProvider, int commandCapacity = 16)
    {
        Kernel = new LoopKernel<TestLoop>(this, "test", nameof(TestLoop), timeProvider, commandCapacity, _stopping.Token);
    }

    public LoopKernel<TestLoop> Kernel { get; }

    public Task? Task { get; private set; }

    /// <summary>Turns taken so far.</summary>
    public long Turns => Interlocked.Read(ref _turns);

    /// <summary>The next deadline the loop reports (loop ticks).</summary>
    public long Deadline { get; set; } = long.MaxValue;

    /// <summary>What <see cref="ILoopBody.OnFaulted"/> was given.</summary>
    public Exception? FaultedWith { get; private set; }

    long ILoopBody.NextDeadline => Deadline;

    public void Start() => Task = System.Threading.Tasks.Task.Run(Kernel.RunAsync);

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (Task is not null)
        {
            await Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        Kernel.CloseCommands(new ObjectDisposedException(nameof(TestLoop)));
    }

    public void Dispose()
    {
        Kernel.Dispose();
        _stopping.Dispose();
    }

    async ValueTask<bool> ILoopBody.StepAsync(long now)
    {
        Interlocked.Increment(ref _turns);
        return await Kernel.RunCommandsAsync(now, 64);
    }

    void ILoopBody.OnFaulted(Exception failure) => FaultedWith = failure;

    /// <summary>A command that returns its argument.</summary>
    public static DelegateLoopCommand<TestLoop, int> Echo(int value) => new((_, _) => ValueTask.FromResult(value));

    /// <summary>A command that fails with a bug (not a caller error): faults the loop.</summary>
    public sealed class BugCommand(Exception bug) : LoopCommand<TestLoop, int>
    {
        protected override ValueTask<int> RunAsync(TestLoop loop, long now) => throw bug;

        protected override bool IsCallerError(Exception error) => false;
    }
}
