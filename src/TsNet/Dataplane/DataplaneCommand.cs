namespace TsNet.Dataplane;

/// <summary>Work the app side asks of the dataplane loop; runs on the loop's task, so the core needs no locks.</summary>
internal abstract class DataplaneCommand
{
    private readonly TaskCompletionSource<object?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<object?> Completion => _completion.Task;

    public abstract ValueTask<object?> ExecuteAsync(DataplaneLoop loop, long now);

    public void Complete(object? result) => _completion.TrySetResult(result);

    public void Fail(Exception error) => _completion.TrySetException(error);

    public void Cancel() => _completion.TrySetException(new ObjectDisposedException(nameof(TailnetServer)));
}

/// <summary>A command from a delegate.</summary>
internal sealed class DelegateCommand : DataplaneCommand
{
    private readonly Func<DataplaneLoop, long, ValueTask<object?>> _action;

    public DelegateCommand(Func<DataplaneLoop, long, ValueTask<object?>> action) => _action = action;

    public override ValueTask<object?> ExecuteAsync(DataplaneLoop loop, long now) => _action(loop, now);
}
