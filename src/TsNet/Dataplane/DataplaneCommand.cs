using TsNet.Loops;

namespace TsNet.Dataplane;

/// <summary>
/// Work the app side asks of the dataplane loop, with a typed result; runs on the loop's task, so the core needs no
/// locks. An exception the work throws goes to its caller; the loop carries on.
/// </summary>
/// <typeparam name="T">What the caller gets back.</typeparam>
internal sealed class DataplaneCommand<T>(Func<DataplaneLoop, long, ValueTask<T>> action) : LoopCommand<DataplaneLoop, T>
{
    /// <inheritdoc />
    protected override ValueTask<T> RunAsync(DataplaneLoop loop, long now) => action(loop, now);
}
