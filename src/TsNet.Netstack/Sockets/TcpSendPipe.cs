using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace TsNet.Netstack.Sockets;

/// <summary>
/// Bytes the app sends, on their way to the netstack loop: the app's <see cref="PipeWriter"/> itself, and an internal
/// reader side for the loop. It replaces a <see cref="Pipe"/> plus a notifying wrapper at a fraction of the memory
/// (one object, no segments; its array is rented only while bytes wait — see <see cref="PipeBytes"/>) and keeps their
/// semantics: every flush and the completion wake the loop for this connection; a flush waits while
/// <see cref="TcpStreamChannel.SendPauseBytes"/> or more wait for the loop, until fewer than half remain; once the
/// connection failed (the loop completed the reader with a <see cref="SocketException"/>) flushes report
/// <see cref="FlushResult.IsCompleted"/> — what a socket transport's pipe does when a send fails — and the error is
/// kept in <see cref="Error"/>; continuations never run on the loop.
/// </summary>
internal sealed class TcpSendPipe : PipeWriter, IValueTaskSource<FlushResult>
{
    private readonly TcpStreamChannel _channel;
    private PipeBytes _bytes;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private Exception? _readerError;
    private SocketException? _error;
    private bool _flushing; // a FlushAsync waits for the loop
    private bool _cancelRequested;
    private bool _writerCompleted;
    private bool _readerCompleted;

    public TcpSendPipe(TcpStreamChannel channel) => _channel = channel;

    /// <summary>Why the output completed, when it was a failure of the connection (null: not failed, or closed normally).</summary>
    public SocketException? Error => Volatile.Read(ref _error);

    /// <summary>Diagnostics and tests: whether an array is rented (an idle pipe holds none).</summary>
    internal bool HoldsArray
    {
        get
        {
            lock (Sync)
            {
                return _bytes.HasArray;
            }
        }
    }

    // The pipe itself: one object less per connection than a separate lock (the app only sees it as a Pipe{Reader,Writer}).
    private object Sync => this;

    // ---- the app's side -------------------------------------------------------------------------------------------

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes
    {
        get
        {
            lock (Sync)
            {
                return _bytes.Unpublished;
            }
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        lock (Sync)
        {
            ThrowIfWriterCompleted();
            return _bytes.GetWritable(sizeHint);
        }
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        lock (Sync)
        {
            ThrowIfWriterCompleted();
            _bytes.Advance(bytes);
            if (_readerCompleted)
            {
                _bytes.Discard(); // nobody will send them
            }
        }
    }

    /// <summary>One copy into room for the whole write (the base class would copy in small steps, regrowing).</summary>
    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (!source.IsEmpty)
        {
            lock (Sync)
            {
                ThrowIfWriterCompleted();
                source.Span.CopyTo(_bytes.GetWritable(source.Length).Span);
                _bytes.Advance(source.Length);
                _bytes.EndWrite();
                if (_readerCompleted)
                {
                    _bytes.Discard();
                }
            }
        }

        return FlushAsync(cancellationToken);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> flush;
        lock (Sync)
        {
            ThrowIfWriterCompleted();
            if (_flushing)
            {
                throw new InvalidOperationException("A flush is already in progress.");
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<FlushResult>(cancellationToken);
            }

            _bytes.EndWrite(); // flushed: room from an earlier GetMemory is given up, as on a pipe
            _bytes.Publish();
            if (_readerCompleted || _cancelRequested || _bytes.Unread < TcpStreamChannel.SendPauseBytes)
            {
                flush = new ValueTask<FlushResult>(TakeResult());
            }
            else
            {
                _flushing = true;
                _signal.Reset();
                if (cancellationToken.CanBeCanceled)
                {
                    // Registered under the lock so the flush cannot complete (and dispose it) before it is stored.
                    _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((TcpSendPipe)state!).OnFlushCanceled(token), this);
                }

                flush = new ValueTask<FlushResult>(this, _signal.Version);
            }
        }

        // The bytes are visible now; wake the loop even when the flush waits for it (back-pressure).
        _channel.Notify();
        return flush;
    }

    public override void CancelPendingFlush()
    {
        lock (Sync)
        {
            _cancelRequested = true;
            Wake();
        }
    }

    public override void Complete(Exception? exception = null)
    {
        if (exception is not null)
        {
            // The app failed mid-stream: a FIN would tell the peer the data ended cleanly (a truncated body would look
            // complete), so the connection is reset instead, as a socket transport aborts on an output error. The
            // abort is asked for before the completion shows, so the loop can never take the completion for a FIN;
            // its reset completes this pipe's reader side, which drops the unsent bytes.
            _channel.RequestAbort();
        }

        lock (Sync)
        {
            if (_writerCompleted)
            {
                return;
            }

            _writerCompleted = true;
            _bytes.EndWrite();
            if (exception is not null)
            {
                return;
            }

            // Bytes advanced but not flushed still go out (a pipe's completion commits them too).
            _bytes.Publish();
            if (_readerCompleted)
            {
                _bytes.Discard();
            }
        }

        _channel.Notify();
    }

    // ---- the loop's side -----------------------------------------------------------------------------------------

    /// <summary>
    /// Loop: the bytes waiting to be sent (held until <see cref="Consume"/>) and whether the app finished writing;
    /// false when there is nothing (no bytes and not finished) or the loop completed its side.
    /// </summary>
    public bool TryPeek(out ReadOnlyMemory<byte> bytes, out bool writerCompleted)
    {
        lock (Sync)
        {
            writerCompleted = _writerCompleted;
            if (_readerCompleted || (_bytes.Unread == 0 && !_writerCompleted))
            {
                bytes = default;
                return false;
            }

            bytes = _bytes.BeginReadMemory();
            return true;
        }
    }

    /// <summary>Loop: <paramref name="count"/> bytes of the last peek went into the connection; wakes a flush below the resume mark.</summary>
    public void Consume(int count)
    {
        lock (Sync)
        {
            _bytes.EndRead(count, count);
            Wake();
        }
    }

    /// <summary>Loop (or the node going away): no more bytes will be taken; flushes report completion (or fail with <paramref name="error"/>).</summary>
    public void CompleteReader(Exception? error = null)
    {
        lock (Sync)
        {
            if (_readerCompleted)
            {
                return;
            }

            _readerCompleted = true;
            _readerError = error;
            _bytes.DropReaderView();
            _bytes.Discard();
            Wake();
        }
    }

    // ---- the awaited flush ---------------------------------------------------------------------------------------

    FlushResult IValueTaskSource<FlushResult>.GetResult(short token)
    {
        _cancellation.Dispose();
        _cancellation = default;
        try
        {
            _signal.GetResult(token); // throws the token's cancellation
        }
        finally
        {
            // Forget the awaiter's continuation and state now: kept, they would hold the app's last async state
            // machine alive for as long as the connection idles.
            _signal.Reset();
        }

        lock (Sync)
        {
            return TakeResult();
        }
    }

    ValueTaskSourceStatus IValueTaskSource<FlushResult>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<FlushResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags & ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext); // as a pipe without synchronization context

    /// <summary>Under the lock: completes a waiting flush once the loop caught up (or it was canceled, or the loop is gone).</summary>
    private void Wake()
    {
        if (_flushing && (_readerCompleted || _cancelRequested || _bytes.Unread < TcpStreamChannel.SendPauseBytes / 2))
        {
            _flushing = false;
            _signal.SetResult(true); // continuations run on the thread pool (RunContinuationsAsynchronously)
        }
    }

    private void OnFlushCanceled(CancellationToken token)
    {
        lock (Sync)
        {
            if (!_flushing)
            {
                return;
            }

            _flushing = false;
            _signal.SetException(new OperationCanceledException(token));
        }
    }

    /// <summary>Under the lock: the result of a flush that is done.</summary>
    private FlushResult TakeResult()
    {
        bool canceled = _cancelRequested;
        _cancelRequested = false;
        if (_readerCompleted && _readerError is { } error)
        {
            if (error is SocketException socketError)
            {
                Volatile.Write(ref _error, socketError);
            }
            else
            {
                ExceptionDispatchInfo.Throw(error); // as a pipe whose reader completed with an error
            }
        }

        return new FlushResult(canceled, _readerCompleted);
    }

    private void ThrowIfWriterCompleted()
    {
        if (_writerCompleted)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
    }
}
