using System.Threading.Channels;

namespace TsNet.Loops;

/// <summary>
/// Sets a loop's <see cref="LoopWake"/> when a channel the loop does not own becomes readable (or writable), without
/// allocating: it waits with <see cref="CancellationToken.None"/>, which lets the channel reuse its one waiter
/// object, and keeps at most one wait outstanding. For channels whose writers cannot signal the loop themselves.
/// </summary>
internal sealed class ChannelWakeup
{
    private readonly Func<ValueTask<bool>> _startWait;
    private readonly LoopWake _wake;
    private readonly Action _onReady;
    private ValueTask<bool> _pending;
    private int _armed;
    private volatile bool _closed;

    private ChannelWakeup(Func<ValueTask<bool>> startWait, LoopWake wake)
    {
        _startWait = startWait;
        _wake = wake;
        _onReady = OnReady;
    }

    /// <summary>Wakes <paramref name="wake"/> when <paramref name="reader"/> has items.</summary>
    public static ChannelWakeup WhenReadable<T>(ChannelReader<T> reader, LoopWake wake) =>
        new(() => reader.WaitToReadAsync(CancellationToken.None), wake);

    /// <summary>Wakes <paramref name="wake"/> when <paramref name="writer"/> has room.</summary>
    public static ChannelWakeup WhenWritable<T>(ChannelWriter<T> writer, LoopWake wake) =>
        new(() => writer.WaitToWriteAsync(CancellationToken.None), wake);

    /// <summary>True once the channel completed: it will never be ready again.</summary>
    public bool IsClosed => _closed;

    /// <summary>
    /// Called by the loop before it sleeps: true when the channel is ready now (the loop should turn again instead);
    /// otherwise the wake is set as soon as it gets ready. Loop task only.
    /// </summary>
    public bool Arm()
    {
        if (_closed || Volatile.Read(ref _armed) == 1)
        {
            return false; // never ready again, or the outstanding wait will set the wake
        }

        var wait = _startWait();
        if (wait.IsCompleted)
        {
            // Reading the result also returns the channel's waiter object for reuse.
            var ready = Ready(wait);
            _closed = !ready;
            return ready;
        }

        _pending = wait;
        Volatile.Write(ref _armed, 1);
        wait.GetAwaiter().UnsafeOnCompleted(_onReady);
        return false;
    }

    private void OnReady()
    {
        var wait = _pending;
        _pending = default;
        _closed = !Ready(wait);
        Volatile.Write(ref _armed, 0);
        _wake.Set();
    }

    private static bool Ready(ValueTask<bool> wait)
    {
        try
        {
            return wait.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
        {
            return false; // completed with an error: as closed
        }
    }
}
