namespace TsNet.Packets.Threading;

/// <summary>
/// Wakes a loop task when any of its inputs has work. Producers call <see cref="Set"/> after queueing; the loop
/// calls <see cref="Reset"/> before draining and <see cref="WaitAsync"/> when it found nothing, so a signal set
/// between draining and waiting is never lost.
/// </summary>
internal sealed class WakeSignal
{
    private TaskCompletionSource? _waiter;
    private int _signaled;

    public void Set()
    {
        Volatile.Write(ref _signaled, 1);
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }

    public void Reset() => Volatile.Write(ref _signaled, 0);

    /// <summary>Waits until <see cref="Set"/>, the timeout (on <paramref name="timeProvider"/>'s clock) or cancellation.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiter, waiter);
        if (Volatile.Read(ref _signaled) == 1 || timeout <= TimeSpan.Zero)
        {
            Interlocked.CompareExchange(ref _waiter, null, waiter);
            return;
        }

        using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, timeProvider, delayCancellation.Token);
        await Task.WhenAny(waiter.Task, delay).ConfigureAwait(false);
        await delayCancellation.CancelAsync().ConfigureAwait(false);
        Interlocked.CompareExchange(ref _waiter, null, waiter);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
