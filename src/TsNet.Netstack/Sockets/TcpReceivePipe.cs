using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace TsNet.Netstack.Sockets;

/// <summary>
/// Received bytes on their way from the netstack loop to the app: the app's <see cref="PipeReader"/> itself, and an
/// internal writer side for the loop. It replaces a <see cref="Pipe"/> plus a counting wrapper at a fraction of the
/// memory (one object, no segments; its array is rented only while bytes wait — see <see cref="PipeBytes"/>) and
/// keeps the semantics the app relies on: <c>examined</c> makes the next read wait for new bytes, a writer's error is
/// thrown by every read from then on (pending bytes are dropped, as a reset drops them), <see cref="CancelPendingRead"/>
/// and the read's token cancel as on a pipe, and continuations never run on the loop.
/// </summary>
internal sealed class TcpReceivePipe : PipeReader, IValueTaskSource<ReadResult>
{
    private readonly TcpStreamChannel _channel;
    private PipeBytes _bytes;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private ExceptionDispatchInfo? _writerError;
    private bool _reading; // a ReadAsync waits
    private bool _waitForNewBytes; // the reader examined everything published
    private bool _cancelRequested;
    private bool _writerCompleted;
    private bool _readerCompleted;

    public TcpReceivePipe(TcpStreamChannel channel) => _channel = channel;

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

    public override bool TryRead(out ReadResult result)
    {
        lock (Sync)
        {
            ThrowIfReaderCompleted();
            if (_bytes.Unread > 0 || _writerCompleted || _cancelRequested)
            {
                result = TakeResult();
                return true;
            }

            result = default;
            return false;
        }
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        lock (Sync)
        {
            ThrowIfReaderCompleted();
            if (_reading)
            {
                throw new InvalidOperationException("A read is already in progress.");
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<ReadResult>(cancellationToken);
            }

            if (IsReady)
            {
                return new ValueTask<ReadResult>(TakeResult());
            }

            _reading = true;
            _signal.Reset();
            if (cancellationToken.CanBeCanceled)
            {
                // Registered under the lock, so the read cannot complete (and dispose it) before it is stored. A
                // callback running right here (the token fired meanwhile) re-enters the lock on this thread.
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((TcpReceivePipe)state!).OnReadCanceled(token), this);
            }

            return new ValueTask<ReadResult>(this, _signal.Version);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        int count;
        lock (Sync)
        {
            ThrowIfReaderCompleted();
            count = _bytes.OffsetInView(consumed);
            int seen = _bytes.OffsetInView(examined);
            _waitForNewBytes = _bytes.EndRead(count, seen) && !_writerCompleted;
        }

        _channel.OnAppConsumed(count);
    }

    public override void CancelPendingRead()
    {
        lock (Sync)
        {
            _cancelRequested = true;
            Wake();
        }
    }

    public override void Complete(Exception? exception = null)
    {
        lock (Sync)
        {
            if (_readerCompleted)
            {
                return;
            }

            _readerCompleted = true;
            _bytes.DropReaderView();
            _bytes.Discard();
        }

        _channel.Notify();
    }

    // ---- the loop's side -----------------------------------------------------------------------------------------

    /// <summary>Loop: room for received bytes (at least <paramref name="sizeHint"/>), held until <see cref="CommitWrite"/>.</summary>
    public Span<byte> GetWriteSpan(int sizeHint)
    {
        lock (Sync)
        {
            return _bytes.GetWritable(sizeHint).Span;
        }
    }

    /// <summary>Loop: <paramref name="bytes"/> of the room were filled (not yet visible to the app).</summary>
    public void CommitWrite(int bytes)
    {
        lock (Sync)
        {
            _bytes.Advance(bytes);
            _bytes.EndWrite();
            if (_readerCompleted)
            {
                _bytes.Discard();
            }
        }
    }

    /// <summary>Loop: makes the committed bytes visible and wakes a waiting read; false once the app stopped reading.</summary>
    public bool Publish()
    {
        lock (Sync)
        {
            if (_readerCompleted)
            {
                _bytes.Discard();
                return false;
            }

            if (_bytes.Publish())
            {
                _waitForNewBytes = false;
                Wake();
            }

            return true;
        }
    }

    /// <summary>Loop (or the node going away): the end of the stream, or the connection's failure; idempotent.</summary>
    public void CompleteWriter(Exception? error = null)
    {
        lock (Sync)
        {
            if (_writerCompleted)
            {
                return;
            }

            _writerCompleted = true;
            _bytes.EndWrite();
            _bytes.Publish();
            if (error is not null)
            {
                _writerError = ExceptionDispatchInfo.Capture(error);
            }

            if (_readerCompleted)
            {
                _bytes.Discard();
            }

            Wake();
        }
    }

    // ---- the awaited read ----------------------------------------------------------------------------------------

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
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

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags & ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext); // as a pipe without synchronization context

    private bool IsReady => _cancelRequested || _writerCompleted || (_bytes.Unread > 0 && !_waitForNewBytes);

    /// <summary>Under the lock: completes a waiting read when it has something to return.</summary>
    private void Wake()
    {
        if (_reading && IsReady)
        {
            _reading = false;
            _signal.SetResult(true); // continuations run on the thread pool (RunContinuationsAsynchronously)
        }
    }

    private void OnReadCanceled(CancellationToken token)
    {
        lock (Sync)
        {
            if (!_reading)
            {
                return;
            }

            _reading = false;
            _signal.SetException(new OperationCanceledException(token));
        }
    }

    /// <summary>Under the lock: the result of a read that is ready (the writer's error is thrown, as a pipe does).</summary>
    private ReadResult TakeResult()
    {
        _writerError?.Throw();
        bool canceled = _cancelRequested;
        _cancelRequested = false;
        return new ReadResult(_bytes.BeginRead(), canceled, _writerCompleted);
    }

    private void ThrowIfReaderCompleted()
    {
        if (_readerCompleted)
        {
            throw new InvalidOperationException("Reading is not allowed after the reader was completed.");
        }
    }
}
