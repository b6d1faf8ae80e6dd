using System.Buffers;
using System.Threading.Channels;

namespace TsNet.Capture;

/// <summary>
/// One running capture: the dataplane copies packets into a bounded queue (never waiting: a full queue drops and
/// counts, so a slow destination stream cannot slow the node), and <see cref="WriteAsync"/> drains it into the
/// destination stream in pcap format.
/// </summary>
internal sealed class PacketCaptureSession
{
    /// <summary>Packets queued between the dataplane and the stream writer; bounds the capture's memory (≈ 5 MiB at MTU 1280).</summary>
    public const int QueueCapacity = 4096;

    private readonly Channel<CapturedPacket> _queue = Channel.CreateBounded<CapturedPacket>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly TimeProvider _timeProvider;
    private long _dropped;
    private long _captured;

    public PacketCaptureSession(TimeProvider timeProvider) => _timeProvider = timeProvider;

    /// <summary>Packets lost because the writer fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Packets written to the stream.</summary>
    public long Captured => Interlocked.Read(ref _captured);

    /// <summary>Called on the dataplane's task: copies the packet (the caller's buffer is encrypted in place next).</summary>
    public void Offer(ReadOnlySpan<byte> packet)
    {
        var length = Math.Min(packet.Length, PcapFormat.SnapLength);
        var copy = ArrayPool<byte>.Shared.Rent(length);
        packet[..length].CopyTo(copy);
        var item = new CapturedPacket(_timeProvider.GetUtcNow(), copy, length, packet.Length);
        if (!_queue.Writer.TryWrite(item))
        {
            ArrayPool<byte>.Shared.Return(copy);
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>No more packets will be offered; the writer finishes what is queued.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Writes the pcap header, then every queued packet until <see cref="Complete"/>; flushes per batch.</summary>
    public async Task WriteAsync(Stream destination, CancellationToken cancellationToken)
    {
        var header = new byte[PcapFormat.GlobalHeaderSize];
        PcapFormat.WriteGlobalHeader(header);
        await destination.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);

        var recordHeader = new byte[PcapFormat.RecordHeaderSize];
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (_queue.Reader.TryRead(out var packet))
                {
                    try
                    {
                        PcapFormat.WriteRecordHeader(recordHeader, packet.Timestamp, packet.Length, packet.OriginalLength);
                        await destination.WriteAsync(recordHeader, cancellationToken).ConfigureAwait(false);
                        await destination.WriteAsync(packet.Bytes.AsMemory(0, packet.Length), cancellationToken).ConfigureAwait(false);
                        Interlocked.Increment(ref _captured);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(packet.Bytes);
                    }
                }

                await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // Whatever is left (a failed stream, a cancelled write) goes back to the pool.
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var packet))
            {
                ArrayPool<byte>.Shared.Return(packet.Bytes);
            }
        }
    }

    private readonly record struct CapturedPacket(DateTimeOffset Timestamp, byte[] Bytes, int Length, int OriginalLength);
}
