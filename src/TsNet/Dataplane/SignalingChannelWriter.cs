using System.Threading.Channels;
using TsNet.Loops;

namespace TsNet.Dataplane;

/// <summary>A channel writer that wakes the consuming loop after each successful write.</summary>
internal sealed class SignalingChannelWriter<T> : ChannelWriter<T>
{
    private readonly ChannelWriter<T> _inner;
    private readonly LoopWake _signal;

    public SignalingChannelWriter(ChannelWriter<T> inner, LoopWake signal)
    {
        _inner = inner;
        _signal = signal;
    }

    public override bool TryWrite(T item)
    {
        if (!_inner.TryWrite(item))
        {
            return false;
        }

        _signal.Set();
        return true;
    }

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) =>
        _inner.WaitToWriteAsync(cancellationToken);

    public override bool TryComplete(Exception? error = null)
    {
        var completed = _inner.TryComplete(error);
        _signal.Set();
        return completed;
    }
}
