using System.Buffers;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// The receive side's bytes: a ring over one pooled array. The first <see cref="Count"/> bytes are in order and
/// readable; the rest of <see cref="Capacity"/> is the receive window, where out-of-order data is stored in place at
/// its offset from RCV.NXT (<see cref="WriteAt"/>) while the <see cref="Reassembler"/> remembers which ranges are
/// filled. When the hole before them fills, <see cref="Commit"/> makes the bytes readable without copying them again.
/// </summary>
/// <remarks>
/// <see cref="Capacity"/> is a limit, not an allocation: the array is rented from <see cref="ArrayPool{T}.Shared"/>
/// when bytes arrive, replaced by a larger one (copying the ring in order, so offsets stay valid) when a write lands
/// beyond it, and returned by <see cref="ReleaseIfEmpty"/> once everything was read and the owner holds no
/// out-of-order data. An idle connection holds no array; the next rental starts at the size the previous one needed.
/// </remarks>
internal struct ReceiveBuffer
{
    private byte[]? _storage;
    private int _start;
    private int _peak; // furthest byte (from the read position) written during the current rental
    private int _sizeHint; // bytes the previous rental needed

    /// <summary>Creates a buffer that holds <paramref name="capacity"/> bytes and may grow to <paramref name="maxCapacity"/>.</summary>
    public ReceiveBuffer(int capacity, int maxCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCapacity, capacity);
        Capacity = capacity;
        MaxCapacity = maxCapacity;
    }

    /// <summary>In-order bytes waiting for the application.</summary>
    public int Count { get; private set; }

    /// <summary>Size of the buffer: readable bytes plus the receive window (autotuning raises it with <see cref="Grow"/>).</summary>
    public int Capacity { get; private set; }

    /// <summary>Largest <see cref="Capacity"/> <see cref="Grow"/> may reach.</summary>
    public int MaxCapacity { get; }

    /// <summary>Room behind the readable bytes: the most the receive window can offer.</summary>
    public int Free => Capacity - Count;

    /// <summary>Length of the rented array (0 while released).</summary>
    public int StorageLength => _storage?.Length ?? 0;

    /// <summary>
    /// Stores <paramref name="data"/> <paramref name="offset"/> bytes after the readable bytes (offset 0 is RCV.NXT).
    /// The caller keeps <c>offset + data.Length ≤ Free</c>.
    /// </summary>
    public void WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + data.Length, Free);
        if (data.IsEmpty)
        {
            return;
        }

        int end = Count + offset + data.Length;
        byte[] storage = EnsureStorage(end);
        _peak = Math.Max(_peak, end);
        int at = (_start + Count + offset) % storage.Length;
        int first = Math.Min(data.Length, storage.Length - at);
        data[..first].CopyTo(storage.AsSpan(at));
        data[first..].CopyTo(storage);
    }

    /// <summary>Makes the next <paramref name="count"/> stored bytes readable (RCV.NXT advanced by that much).</summary>
    public void Commit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Math.Min(Free, StorageLength - Count));
        Count += count;
    }

    /// <summary>Copies readable bytes into <paramref name="destination"/> and frees them; returns how many.</summary>
    public int Read(Span<byte> destination)
    {
        int length = Math.Min(destination.Length, Count);
        if (length == 0)
        {
            return 0;
        }

        byte[] storage = _storage!;
        int first = Math.Min(length, storage.Length - _start);
        storage.AsSpan(_start, first).CopyTo(destination);
        storage.AsSpan(0, length - first).CopyTo(destination[first..]);
        _start = (_start + length) % storage.Length;
        Count -= length;
        _peak = Math.Max(_peak - length, Count);
        return length;
    }

    /// <summary>Raises <see cref="Capacity"/> (clamped to <see cref="MaxCapacity"/>); the array follows on demand.</summary>
    public void Grow(int capacity) => Capacity = Math.Max(Capacity, Math.Min(capacity, MaxCapacity));

    /// <summary>
    /// Returns the array when nothing is readable. The caller promises that no out-of-order bytes are held (they
    /// would be lost).
    /// </summary>
    public void ReleaseIfEmpty()
    {
        if (Count > 0 || _storage is not { } storage)
        {
            return;
        }

        _storage = null;
        _start = 0;
        _sizeHint = Math.Max(_sizeHint / 2, _peak); // remember the working set; shrink slowly once it is smaller
        _peak = 0;
        ArrayPool<byte>.Shared.Return(storage);
    }

    private byte[] EnsureStorage(int needed)
    {
        int current = _storage?.Length ?? 0;
        if (needed <= current)
        {
            return _storage!;
        }

        int size = Math.Max(Math.Max(needed, PooledStorage.MinRentBytes), Math.Max(2 * current, _sizeHint));
        size = Math.Max(needed, Math.Min(size, Capacity));
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        if (_storage is { } old)
        {
            // Keep every position relative to the read position: readable bytes and out-of-order bytes alike.
            int first = old.Length - _start;
            old.AsSpan(_start).CopyTo(larger);
            old.AsSpan(0, _start).CopyTo(larger.AsSpan(first));
            ArrayPool<byte>.Shared.Return(old);
        }

        _storage = larger;
        _start = 0;
        return larger;
    }
}
