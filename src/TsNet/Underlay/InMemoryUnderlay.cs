using System.Threading.Channels;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Underlay;

/// <summary>
/// A node's underlay on an <see cref="InMemoryUnderlayHub"/>: sending hands the datagram to the hub; the hub copies
/// it into one of the receiving node's pool buffers and writes it to that node's bounded inbound channel.
/// </summary>
internal sealed class InMemoryUnderlay : IUnderlay
{
    private readonly InMemoryUnderlayHub _hub;
    private readonly ChannelWriter<UnderlayDatagram> _inbound;
    private readonly Action<ReadOnlySpan<byte>> _onReceived;
    private long _inboundDrops;
    private long _sendDrops;
    private int _disposed;

    internal InMemoryUnderlay(InMemoryUnderlayHub hub, int port, PacketBufferPool pool, ChannelWriter<UnderlayDatagram> inbound, Action<ReadOnlySpan<byte>> onReceived)
    {
        _hub = hub;
        Port = port;
        Pool = pool;
        _inbound = inbound;
        _onReceived = onReceived;
    }

    public int Port { get; }

    /// <summary>Where the buffers of received datagrams come from.</summary>
    internal PacketBufferPool Pool { get; }

    public long InboundDrops => Interlocked.Read(ref _inboundDrops);

    public long SendDrops => Interlocked.Read(ref _sendDrops);

    public IEnumerable<Task> Tasks => [];

    public long NextDeadline => Timestamps.NotArmed;

    /// <summary>Whether the underlay was disposed (its port is free again).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void Start()
    {
        // Delivery needs no task: the hub writes into the inbound channel from the sender's (or the clock's) thread.
    }

    public void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        if (IsDisposed || !_hub.Transmit(this, destination, datagram))
        {
            Interlocked.Increment(ref _sendDrops);
        }
    }

    public void Flush()
    {
    }

    public UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now) => UnderlayReceiveResult.Direct;

    public void Poll(long now)
    {
    }

    /// <summary>Copies a datagram in and queues it (hub lock held).</summary>
    internal void Deliver(ReadOnlySpan<byte> datagram, in UnderlayAddress source)
    {
        var buffer = Pool.Rent(MessageLayout.TransportHeaderSize);
        datagram.CopyTo(buffer.Array.AsSpan(buffer.Offset));
        buffer.SetLength(datagram.Length);
        Deliver(buffer, source);
    }

    /// <summary>Queues a buffer of ours (hub lock held); a full queue drops and counts, like a full socket buffer.</summary>
    internal void Deliver(PacketBuffer buffer, in UnderlayAddress source)
    {
        if (IsDisposed)
        {
            buffer.Return();
            return;
        }

        _onReceived(buffer.Span);
        if (!_inbound.TryWrite(new UnderlayDatagram(buffer, source)))
        {
            Interlocked.Increment(ref _inboundDrops);
            buffer.Return();
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _hub.Detach(this);
        }

        return ValueTask.CompletedTask;
    }
}
