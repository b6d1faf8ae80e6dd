using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace TsNet.AspNetCore;

/// <summary>
/// The tailnet connection's input as Kestrel expects it from a transport: a reset by the peer arrives as
/// <see cref="ConnectionResetException"/> (which Kestrel and apps treat as an ordinary disconnect) rather than the
/// facade's <see cref="SocketException"/>, which Kestrel would log as an abnormal end of processing.
/// </summary>
internal sealed class ResetTranslatingPipeReader : PipeReader
{
    private readonly PipeReader _inner;

    public ResetTranslatingPipeReader(PipeReader inner)
    {
        _inner = inner;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<ReadResult> read;
        try
        {
            read = _inner.ReadAsync(cancellationToken);
        }
        catch (SocketException ex)
        {
            throw Translate(ex);
        }

        // Most reads complete synchronously with data already buffered: no state machine for those.
        return read.IsCompletedSuccessfully ? read : AwaitTranslatedAsync(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        try
        {
            return _inner.TryRead(out result);
        }
        catch (SocketException ex)
        {
            throw Translate(ex);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => _inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    private static async ValueTask<ReadResult> AwaitTranslatedAsync(ValueTask<ReadResult> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw Translate(ex);
        }
    }

    private static IOException Translate(SocketException ex) => ex.SocketErrorCode == SocketError.ConnectionReset
        ? new ConnectionResetException(ex.Message, ex)
        : new IOException(ex.Message, ex);
}
