using System.IO.Pipelines;
using TsNet.Netstack.Sockets;

namespace TsNet.Streams;

/// <summary>The app's view of bytes to send: every flush (and completion) wakes the netstack loop for this connection.</summary>
internal sealed class NotifyingPipeWriter : PipeWriter
{
    private readonly PipeWriter _inner;
    private readonly TcpStreamChannel _channel;

    public NotifyingPipeWriter(PipeWriter inner, TcpStreamChannel channel)
    {
        _inner = inner;
        _channel = channel;
    }

    public override void Advance(int bytes) => _inner.Advance(bytes);

    public override void CancelPendingFlush() => _inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        _inner.Complete(exception);
        _channel.Notify();
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        // The pipe publishes the bytes before FlushAsync returns; notify then, because the flush itself may wait
        // for the loop to drain the pipe (back-pressure).
        var flush = _inner.FlushAsync(cancellationToken);
        _channel.Notify();
        return flush;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);

    public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.UnflushedBytes;
}
