using System.Buffers;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// The bytes the application wrote that the peer has not acknowledged yet: a ring over one pooled array. Offset 0 is
/// the oldest unacknowledged byte (SND.UNA, or the first data byte while the SYN is unacknowledged); bytes leave
/// only when cumulatively acknowledged (<see cref="Consume"/>), so retransmissions read them again with
/// <see cref="Peek"/>.
/// </summary>
/// <remarks>
/// <see cref="Capacity"/> is a limit, not an allocation: the array is rented from <see cref="ArrayPool{T}.Shared"/>
/// when the first byte is written, replaced by a larger one (copying) when the held bytes outgrow it, and returned as
/// soon as every byte was acknowledged, so an idle connection holds no array (the YARP StreamCopier idea). The next
/// rental starts at the size the previous one needed, so a busy connection does not regrow from a page each burst.
/// </remarks>
internal struct SendBuffer
{
    private byte[]? _storage;
    private int _start;
    private int _peak; // most bytes held during the current rental
    private int _sizeHint; // bytes the previous rental needed

    /// <summary>Creates a buffer that accepts <paramref name="capacity"/> bytes and may grow to <paramref name="maxCapacity"/>.</summary>
    public SendBuffer(int capacity, int maxCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCapacity, capacity);
        Capacity = capacity;
        MaxCapacity = maxCapacity;
    }

    /// <summary>Bytes held (unsent plus sent-but-unacknowledged).</summary>
    public int Count { get; private set; }

    /// <summary>Most bytes the buffer accepts now (autotuning raises it with <see cref="Grow"/>).</summary>
    public int Capacity { get; private set; }

    /// <summary>Largest <see cref="Capacity"/> <see cref="Grow"/> may reach.</summary>
    public int MaxCapacity { get; }

    /// <summary>Room for new bytes.</summary>
    public int Free => Capacity - Count;

    /// <summary>Length of the rented array (0 while empty).</summary>
    public int StorageLength => _storage?.Length ?? 0;

    /// <summary>Copies as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int length = Math.Min(data.Length, Free);
        if (length == 0)
        {
            return 0;
        }

        byte[] storage = EnsureStorage(Count + length);
        int tail = (_start + Count) % storage.Length;
        int first = Math.Min(length, storage.Length - tail);
        data[..first].CopyTo(storage.AsSpan(tail));
        data[first..length].CopyTo(storage);
        Count += length;
        _peak = Math.Max(_peak, Count);
        return length;
    }

    /// <summary>Copies bytes starting <paramref name="offset"/> bytes in; returns how many (bounded by both sides).</summary>
    public int Peek(int offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int length = Math.Min(destination.Length, Count - offset);
        if (length <= 0 || _storage is not { } storage)
        {
            return 0;
        }

        int from = (_start + offset) % storage.Length;
        int first = Math.Min(length, storage.Length - from);
        storage.AsSpan(from, first).CopyTo(destination);
        storage.AsSpan(0, length - first).CopyTo(destination[first..]);
        return length;
    }

    /// <summary>Drops the <paramref name="count"/> oldest bytes (they were acknowledged); an emptied buffer returns its array.</summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        if (count == 0)
        {
            return;
        }

        Count -= count;
        if (Count == 0)
        {
            Release();
            return;
        }

        _start = (_start + count) % _storage!.Length;
    }

    /// <summary>Raises <see cref="Capacity"/> to <paramref name="capacity"/> (clamped to <see cref="MaxCapacity"/>); the array follows on demand.</summary>
    public void Grow(int capacity) => Capacity = Math.Max(Capacity, Math.Min(capacity, MaxCapacity));

    /// <summary>Drops every byte and returns the array (the connection closed).</summary>
    public void Clear()
    {
        Count = 0;
        Release();
    }

    private byte[] EnsureStorage(int needed)
    {
        int current = _storage?.Length ?? 0;
        if (needed <= current)
        {
            return _storage!;
        }

        // Double on growth (amortised copying); start where the last rental ended; never beyond the capacity.
        int size = Math.Max(Math.Max(needed, PooledStorage.MinRentBytes), Math.Max(2 * current, _sizeHint));
        size = Math.Max(needed, Math.Min(size, Capacity));
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        if (_storage is { } old)
        {
            Peek(0, larger);
            ArrayPool<byte>.Shared.Return(old);
        }

        _storage = larger;
        _start = 0;
        return larger;
    }

    private void Release()
    {
        _start = 0;
        if (_storage is { } storage)
        {
            _storage = null;
            _sizeHint = Math.Max(_sizeHint / 2, _peak); // remember the working set; shrink slowly once it is smaller
            _peak = 0;
            ArrayPool<byte>.Shared.Return(storage);
        }
    }
}
