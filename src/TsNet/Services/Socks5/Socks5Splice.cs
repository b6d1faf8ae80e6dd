using System.IO.Pipelines;
using System.Net.Sockets;

namespace TsNet.Services.Socks5;

/// <summary>
/// Copies bytes both ways between the loopback client and its overlay connection until both directions end. A FIN on
/// one side becomes a FIN on the other (half-close) while the opposite direction keeps flowing; a reset or error on
/// one side aborts the other (RST to the client, so it sees an error rather than a clean end).
/// </summary>
internal static class Socks5Splice
{
    /// <summary>Bytes asked of the pipe per client read: one large read keeps the syscall count low at full speed.</summary>
    private const int ClientReadBytes = 64 * 1024;

    public static async Task RunAsync(Socket client, TailnetConnection overlay, CancellationToken nodeStopping)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(nodeStopping);
        try
        {
            var upstream = ClientToOverlayAsync(client, overlay, failed);
            var downstream = OverlayToClientAsync(overlay.Transport.Input, client, failed);
            await Task.WhenAll(upstream, downstream).ConfigureAwait(false);
            if (nodeStopping.IsCancellationRequested)
            {
                ResetClient(client);
            }
        }
        finally
        {
            await overlay.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task ClientToOverlayAsync(Socket client, TailnetConnection overlay, CancellationTokenSource failed)
    {
        var output = overlay.Transport.Output;
        try
        {
            while (true)
            {
                var memory = output.GetMemory(ClientReadBytes);
                var read = await client.ReceiveAsync(memory, SocketFlags.None, failed.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    await output.CompleteAsync().ConfigureAwait(false); // FIN toward the peer
                    return;
                }

                output.Advance(read);
                var flush = await output.FlushAsync(failed.Token).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    // The overlay connection stopped taking bytes (reset or closed under us).
                    ResetClient(client);
                    await failed.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            overlay.Abort();
            await failed.CancelAsync().ConfigureAwait(false);
        }
    }

    private static async Task OverlayToClientAsync(PipeReader input, Socket client, CancellationTokenSource failed)
    {
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(failed.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    for (var sent = 0; sent < segment.Length;)
                    {
                        sent += await client.SendAsync(segment[sent..], SocketFlags.None, failed.Token).ConfigureAwait(false);
                    }
                }

                input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    client.Shutdown(SocketShutdown.Send); // the peer's FIN, passed on
                    await input.CompleteAsync().ConfigureAwait(false);
                    return;
                }

                if (result.IsCanceled)
                {
                    throw new OperationCanceledException();
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            ResetClient(client);
            await failed.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Linger 0: the close that follows sends RST instead of FIN.</summary>
    private static void ResetClient(Socket client)
    {
        try
        {
            client.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }
}
