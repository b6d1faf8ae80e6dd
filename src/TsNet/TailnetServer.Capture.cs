using Microsoft.Extensions.Logging;
using TsNet.Capture;

namespace TsNet;

// Packet capture: the decrypted IP packets the node sends and receives, written as a pcap file.
public sealed partial class TailnetServer
{
    /// <summary>How long a stopped capture may take to write the packets still queued before it gives up on a stuck stream.</summary>
    private static readonly TimeSpan s_captureDrainGrace = TimeSpan.FromSeconds(2);

    private readonly PacketCaptureHub _capture = new();

    /// <summary>
    /// Writes every IP packet the node sends into or receives from the tailnet (decrypted: the inner packets, both
    /// directions) to <paramref name="destination"/> in pcap format (link type RAW, readable by tshark, tcpdump and
    /// Wireshark) until <paramref name="cancellationToken"/> is cancelled or the node is disposed. The returned task
    /// then completes normally once the packets captured so far are written, so the file is complete.
    /// Capturing never slows the node: when the stream falls behind, packets are left out of the capture (up to
    /// 4096 are queued). Several captures may run at once. The stream is not disposed.
    /// </summary>
    /// <exception cref="ArgumentException">The stream is not writable.</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public async Task CapturePcapAsync(Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
        {
            throw new ArgumentException("The capture destination stream is not writable.", nameof(destination));
        }

        CancellationTokenSource stop;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        }

        var session = new PacketCaptureSession(_options.TimeProvider);
        using var writeDeadline = new CancellationTokenSource();
        _capture.Add(session);
        LogCaptureStarted(_logger);
        try
        {
            using (stop)
            using (stop.Token.Register(() =>
            {
                _capture.Remove(session);
                writeDeadline.CancelAfter(s_captureDrainGrace);
            }))
            {
                await session.WriteAsync(destination, writeDeadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (writeDeadline.IsCancellationRequested)
        {
            // The stream did not take the remaining packets within the grace period after the stop.
        }
        finally
        {
            _capture.Remove(session);
            LogCaptureStopped(_logger, session.Captured, session.Dropped);
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Packet capture started")]
    private static partial void LogCaptureStarted(ILogger logger);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "Packet capture stopped: {Captured} packets written, {Dropped} left out because the stream fell behind")]
    private static partial void LogCaptureStopped(ILogger logger, long captured, long dropped);
}
