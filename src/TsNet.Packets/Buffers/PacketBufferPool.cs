namespace TsNet.Packets.Buffers;

/// <summary>
/// A bounded pool of equally sized <see cref="PacketBuffer"/>s. Renting never fails: when the pool is empty a new
/// buffer is made; returning keeps at most <see cref="MaxPooled"/> buffers, so the pool's memory has a bound.
/// </summary>
internal sealed class PacketBufferPool
{
    /// <summary>Headroom reserved in front of an IP packet: the 16-byte WireGuard transport header, an 8-byte
    /// Geneve header and an 8-byte margin for later encapsulations.</summary>
    public const int DefaultHeadroom = 32;

    /// <summary>Default buffer size: an inner packet up to MTU 1500 plus
    /// headroom, padding and the AEAD tag, rounded up to a 2 KiB allocation.</summary>
    public const int DefaultBufferSize = 2048;

    // A plain array stack under a lock: uncontended locks are cheap, and unlike ConcurrentQueue it never
    // allocates new segments as buffers cycle (the hot path must not allocate per packet).
    private readonly PacketBuffer[] _free;
    private readonly Lock _lock = new();
    private int _count;
    private long _created;

    /// <summary>Buffers this pool has ever made (for leak checks: with nothing rented and nothing discarded it equals <see cref="IdleCount"/>).</summary>
    public long CreatedCount => Interlocked.Read(ref _created);

    /// <summary>Buffers waiting in the pool.</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Creates a pool of buffers of <paramref name="bufferSize"/> bytes keeping at most <paramref name="maxPooled"/> idle buffers.</summary>
    public PacketBufferPool(int bufferSize = DefaultBufferSize, int maxPooled = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 64);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPooled);
        BufferSize = bufferSize;
        MaxPooled = maxPooled;
        _free = new PacketBuffer[maxPooled];
    }

    /// <summary>A process-wide pool with default sizes.</summary>
    public static PacketBufferPool Shared { get; } = new();

    /// <summary>Size of every buffer's backing array.</summary>
    public int BufferSize { get; }

    /// <summary>Most idle buffers kept.</summary>
    public int MaxPooled { get; }

    /// <summary>Rents a buffer whose (empty) packet starts after <paramref name="headroom"/> bytes.</summary>
    public PacketBuffer Rent(int headroom = DefaultHeadroom)
    {
        PacketBuffer? buffer = null;
        lock (_lock)
        {
            if (_count > 0)
            {
                buffer = _free[--_count];
                _free[_count] = null!;
            }
        }

        if (buffer is null)
        {
            buffer = new PacketBuffer(this, BufferSize);
            Interlocked.Increment(ref _created);
        }

        buffer.Reset(headroom);
        return buffer;
    }

    internal void ReturnBuffer(PacketBuffer buffer)
    {
        lock (_lock)
        {
            if (_count < _free.Length)
            {
                _free[_count++] = buffer;
            }
        }
    }
}
