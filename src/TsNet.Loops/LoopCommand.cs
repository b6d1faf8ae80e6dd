namespace TsNet.Loops;

/// <summary>
/// Work another thread asks of a loop, run on the loop's task so the loop's core needs no lock. Allocated per
/// command (commands are rare next to packets); the loop's wake-ups allocate nothing.
/// </summary>
/// <typeparam name="TLoop">The loop type the command runs against.</typeparam>
internal abstract class LoopCommand<TLoop>
{
    /// <summary>Runs on the loop task. An exception escaping here is a bug in the loop: it faults the loop.</summary>
    public abstract ValueTask ExecuteAsync(TLoop loop, long now);

    /// <summary>The loop will never run this command (stopped or faulted): fail whoever waits for it.</summary>
    public abstract void Fail(Exception reason);
}

/// <summary>A command with a typed result, completed on the loop task; continuations never run there.</summary>
/// <typeparam name="TLoop">The loop type the command runs against.</typeparam>
/// <typeparam name="TResult">What the caller gets back.</typeparam>
internal abstract class LoopCommand<TLoop, TResult> : LoopCommand<TLoop>
{
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the result, the command's own error, or the reason the loop never ran it.</summary>
    public Task<TResult> Completion => _completion.Task;

    /// <inheritdoc />
    public sealed override async ValueTask ExecuteAsync(TLoop loop, long now)
    {
        TResult result;
        try
        {
            result = await RunAsync(loop, now).ConfigureAwait(false);
        }
        catch (Exception e) when (IsCallerError(e))
        {
            _completion.TrySetException(e);
            return;
        }

        _completion.TrySetResult(result);
    }

    /// <inheritdoc />
    public sealed override void Fail(Exception reason) => _completion.TrySetException(reason);

    /// <summary>The command's work, on the loop task.</summary>
    protected abstract ValueTask<TResult> RunAsync(TLoop loop, long now);

    /// <summary>
    /// True when <paramref name="error"/> is this command's answer to its caller (bad arguments, a refused request)
    /// rather than a bug that leaves the loop's state in doubt; the latter escapes and faults the loop.
    /// </summary>
    protected virtual bool IsCallerError(Exception error) => true;
}

/// <summary>A typed command from a delegate; every exception it throws goes to its caller.</summary>
/// <typeparam name="TLoop">The loop type the command runs against.</typeparam>
/// <typeparam name="TResult">What the caller gets back.</typeparam>
internal sealed class DelegateLoopCommand<TLoop, TResult>(Func<TLoop, long, ValueTask<TResult>> action) : LoopCommand<TLoop, TResult>
{
    /// <inheritdoc />
    protected override ValueTask<TResult> RunAsync(TLoop loop, long now) => action(loop, now);
}
