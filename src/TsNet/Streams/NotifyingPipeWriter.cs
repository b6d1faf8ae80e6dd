using System.IO.Pipelines;
using System.Net.Sockets;
using TsNet.Netstack.Sockets;

namespace TsNet.Streams;

/// <summary>
/// The app's view of bytes to send: every flush (and completion) wakes the netstack loop for this connection. Once
/// the connection has failed (the peer's reset, a timeout), flushes report the output as completed — what a socket
/// transport's pipe does when a send fails — instead of throwing; the error is kept in <see cref="Error"/> and also
/// reaches the reader of the connection's input.
/// </summary>
internal sealed class NotifyingPipeWriter : PipeWriter
{
    private static readonly FlushResult s_closed = new(isCanceled: false, isCompleted: true);

    private readonly PipeWriter _inner;
    private readonly TcpStreamChannel _channel;
    private SocketException? _error;

    public NotifyingPipeWriter(PipeWriter inner, TcpStreamChannel channel)
    {
        _inner = inner;
        _channel = channel;
    }

    /// <summary>Why the output completed, when it was a failure of the connection (null: not failed, or closed normally).</summary>
    public SocketException? Error => Volatile.Read(ref _error);

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
        ValueTask<FlushResult> flush;
        try
        {
            flush = _inner.FlushAsync(cancellationToken);
        }
        catch (SocketException ex)
        {
            return new ValueTask<FlushResult>(Failed(ex));
        }

        _channel.Notify();
        return flush.IsCompletedSuccessfully ? flush : AwaitFlushAsync(flush);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);

    public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.UnflushedBytes;

    private async ValueTask<FlushResult> AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            return await flush.ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            return Failed(ex);
        }
    }

    private FlushResult Failed(SocketException error)
    {
        Volatile.Write(ref _error, error);
        return s_closed;
    }
}
