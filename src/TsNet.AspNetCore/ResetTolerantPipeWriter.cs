using System.IO.Pipelines;
using System.Net.Sockets;

namespace TsNet.AspNetCore;

/// <summary>
/// The tailnet connection's output as Kestrel expects it from a transport: once the peer has reset the connection,
/// flushes report the output as completed (what Kestrel's socket transport does when a send fails) instead of
/// throwing the facade's <see cref="SocketException"/>, which Kestrel would log as an abnormal end of processing.
/// The reset itself still reaches Kestrel and the app through the input.
/// </summary>
internal sealed class ResetTolerantPipeWriter : PipeWriter
{
    private static readonly FlushResult s_closed = new(isCanceled: false, isCompleted: true);

    private readonly PipeWriter _inner;

    public ResetTolerantPipeWriter(PipeWriter inner)
    {
        _inner = inner;
    }

    public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.UnflushedBytes;

    public override void Advance(int bytes) => _inner.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);

    public override void CancelPendingFlush() => _inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> flush;
        try
        {
            flush = _inner.FlushAsync(cancellationToken);
        }
        catch (SocketException)
        {
            return new ValueTask<FlushResult>(s_closed);
        }

        return flush.IsCompletedSuccessfully ? flush : AwaitTolerantAsync(flush);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> write;
        try
        {
            write = _inner.WriteAsync(source, cancellationToken);
        }
        catch (SocketException)
        {
            return new ValueTask<FlushResult>(s_closed);
        }

        return write.IsCompletedSuccessfully ? write : AwaitTolerantAsync(write);
    }

    private static async ValueTask<FlushResult> AwaitTolerantAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            return await flush.ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return s_closed;
        }
    }
}
