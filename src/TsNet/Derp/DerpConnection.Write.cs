using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace TsNet.Derp;

/// <summary>
/// The writer loop (the region's send queue → frames, one flush per batch) and the control frames the reader or a
/// caller writes (Pong, Ping). Every write to the stream holds <see cref="_writeLock"/>.
/// </summary>
internal sealed partial class DerpConnection
{
    /// <summary>Frames are copied into one buffer and written together: fewer TLS records and syscalls under load.</summary>
    private const int BatchSize = 32 * 1024;

    /// <summary>At most this many frames per batch, so a pong or a home change waits at most one batch.</summary>
    private const int MaxFramesPerBatch = 256;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _controlFrame = new byte[DerpFrameWriter.PingFrameSize];
    private readonly Lock _pingLock = new();
    private TaskCompletionSource<bool>? _pendingPing;
    private byte[]? _pendingPingData;

    /// <summary>The NotePreferred value last written (-1 = none yet).</summary>
    private int _preferredSent = -1;

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var queue = _owner.Queue;
        var batch = new byte[BatchSize];
        await WriteBatchAsync(queue, batch, cancellationToken).ConfigureAwait(false);

        // Waiting without a token lets the channel reuse its one waiter (a cancellable wait allocates each time);
        // RunAsync wakes this wait with a wake item when the connection ends, and a closed region completes the queue.
        while (!cancellationToken.IsCancellationRequested && await queue.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            await WriteBatchAsync(queue, batch, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteBatchAsync(ChannelReader<DerpOutboundFrame> queue, byte[] batch, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var used = 0;
            var preferred = _owner.Preferred ? 1 : 0;
            if (preferred != _preferredSent)
            {
                used += DerpFrameWriter.WriteNotePreferred(batch, preferred == 1);
                _preferredSent = preferred;
            }

            for (var frames = 0; frames < MaxFramesPerBatch && queue.TryRead(out var frame); frames++)
            {
                if (frame.IsWake)
                {
                    continue;
                }

                try
                {
                    var bytes = frame.Memory;
                    if (bytes.Length > batch.Length - used && used > 0)
                    {
                        await _stream.WriteAsync(batch.AsMemory(0, used), cancellationToken).ConfigureAwait(false);
                        used = 0;
                    }

                    if (bytes.Length > batch.Length)
                    {
                        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        bytes.Span.CopyTo(batch.AsSpan(used));
                        used += bytes.Length;
                    }
                }
                catch
                {
                    _owner.CountSendDrop();
                    throw;
                }
                finally
                {
                    frame.Return();
                }

                _owner.CountSent();
            }

            if (used > 0)
            {
                await _stream.WriteAsync(batch.AsMemory(0, used), cancellationToken).ConfigureAwait(false);
            }

            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes one Ping or Pong frame now (between batches).</summary>
    private async ValueTask WriteControlAsync(DerpFrameType type, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var length = type == DerpFrameType.Ping
                ? DerpFrameWriter.WritePing(_controlFrame, data.Span)
                : DerpFrameWriter.WritePong(_controlFrame, data.Span);
            await _stream.WriteAsync(_controlFrame.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Sends a Ping with random data and waits for the matching Pong; false on timeout or when the connection ends.
    /// One ping at a time per connection (a new one supersedes a pending one, which then reports false).
    /// </summary>
    public async Task<bool> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var data = new byte[DerpProtocol.PingDataSize];
        RandomNumberGenerator.Fill(data);
        var pending = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource<bool>? superseded;
        lock (_pingLock)
        {
            superseded = _pendingPing;
            _pendingPing = pending;
            _pendingPingData = data;
        }

        superseded?.TrySetResult(false);
        try
        {
            await WriteControlAsync(DerpFrameType.Ping, data, cancellationToken).ConfigureAwait(false);
            return await pending.Task.WaitAsync(timeout, _owner.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or IOException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            lock (_pingLock)
            {
                if (_pendingPing == pending)
                {
                    _pendingPing = null;
                    _pendingPingData = null;
                }
            }
        }
    }

    private void CompletePing(ReadOnlySpan<byte> data)
    {
        TaskCompletionSource<bool>? pending = null;
        lock (_pingLock)
        {
            if (_pendingPing is not null && _pendingPingData is not null && data.SequenceEqual(_pendingPingData))
            {
                pending = _pendingPing;
                _pendingPing = null;
                _pendingPingData = null;
            }
        }

        pending?.TrySetResult(true);
    }

    private void FailPendingPing()
    {
        TaskCompletionSource<bool>? pending;
        lock (_pingLock)
        {
            pending = _pendingPing;
            _pendingPing = null;
            _pendingPingData = null;
        }

        pending?.TrySetResult(false);
    }
}
