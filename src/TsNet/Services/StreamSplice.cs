using System.Buffers;

namespace TsNet.Services;

/// <summary>
/// Copies bytes both ways between two TCP ends until both directions have ended. An end of stream in one direction
/// becomes a FIN on the other side (half-close: the opposite direction keeps flowing); a failure in either direction
/// (a reset, or cancellation when the publication closes) resets both sides.
/// </summary>
internal static class StreamSplice
{
    /// <summary>Large enough for a full TCP window's worth per read on a fast path, small enough to pool.</summary>
    private const int BufferSize = 64 * 1024;

    /// <summary>Runs until both directions end; true when both ended cleanly, false when the connection was reset.</summary>
    public static async Task<bool> RunAsync(SpliceEnd a, SpliceEnd b, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clean = true;
        try
        {
            var aToB = CopyAsync(a, b, failed);
            var bToA = CopyAsync(b, a, failed);
            await Task.WhenAll(aToB, bToA).ConfigureAwait(false);
            clean = aToB.Result && bToA.Result;
        }
        finally
        {
            if (!clean)
            {
                a.Abort();
                b.Abort();
            }

            await a.DisposeAsync().ConfigureAwait(false);
            await b.DisposeAsync().ConfigureAwait(false);
        }

        return clean;
    }

    /// <summary>One direction; false when it failed (and then the other direction is cancelled too).</summary>
    private static async Task<bool> CopyAsync(SpliceEnd from, SpliceEnd to, CancellationTokenSource failed)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var read = await from.Stream.ReadAsync(buffer, failed.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                await to.Stream.WriteAsync(buffer.AsMemory(0, read), failed.Token).ConfigureAwait(false);
            }

            await to.ShutdownWriteAsync(failed.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            try
            {
                await failed.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The other direction finished the splice already.
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
