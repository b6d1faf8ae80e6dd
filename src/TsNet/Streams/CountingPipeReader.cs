using System.IO.Pipelines;
using TsNet.Netstack.Sockets;

namespace TsNet.Streams;

/// <summary>The app's view of received bytes: reports how much it consumed so the loop can reopen the TCP window.</summary>
internal sealed class CountingPipeReader : PipeReader
{
    private readonly PipeReader _inner;
    private readonly TcpStreamChannel _channel;
    private System.Buffers.ReadOnlySequence<byte> _lastBuffer;

    public CountingPipeReader(PipeReader inner, TcpStreamChannel channel)
    {
        _inner = inner;
        _channel = channel;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var count = _lastBuffer.IsEmpty ? 0 : _lastBuffer.Slice(0, consumed).Length;
        _lastBuffer = default;
        _inner.AdvanceTo(consumed, examined);
        _channel.OnAppConsumed(count);
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        _inner.Complete(exception);
        _channel.Notify();
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _lastBuffer = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_inner.TryRead(out result))
        {
            _lastBuffer = result.Buffer;
            return true;
        }

        return false;
    }
}
