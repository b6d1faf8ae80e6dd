namespace TsNet.Netstack.Tcp;

/// <summary>
/// The receive side's bytes: a ring over one array. The first <see cref="Count"/> bytes are in order and readable;
/// the rest of the ring is the receive window, where out-of-order data is stored in place at its offset from
/// RCV.NXT (<see cref="WriteAt"/>) while the <see cref="Reassembler"/> remembers which ranges are filled. When the
/// hole before them fills, <see cref="Commit"/> makes the bytes readable without copying them again.
/// </summary>
internal sealed class ReceiveBuffer
{
    private byte[] _buffer;
    private int _start;

    /// <summary>Creates a buffer of <paramref name="capacity"/> bytes that may grow to <paramref name="maxCapacity"/>.</summary>
    public ReceiveBuffer(int capacity, int maxCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCapacity, capacity);
        _buffer = new byte[capacity];
        MaxCapacity = maxCapacity;
    }

    /// <summary>In-order bytes waiting for the application.</summary>
    public int Count { get; private set; }

    /// <summary>Current size of the buffer.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Largest size <see cref="Grow"/> may reach.</summary>
    public int MaxCapacity { get; }

    /// <summary>Room behind the readable bytes: the most the receive window can offer.</summary>
    public int Free => _buffer.Length - Count;

    /// <summary>
    /// Stores <paramref name="data"/> <paramref name="offset"/> bytes after the readable bytes (offset 0 is RCV.NXT).
    /// The caller keeps <c>offset + data.Length ≤ Free</c>.
    /// </summary>
    public void WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + data.Length, Free);
        int at = (_start + Count + offset) % _buffer.Length;
        int first = Math.Min(data.Length, _buffer.Length - at);
        data[..first].CopyTo(_buffer.AsSpan(at));
        data[first..].CopyTo(_buffer);
    }

    /// <summary>Makes the next <paramref name="count"/> stored bytes readable (RCV.NXT advanced by that much).</summary>
    public void Commit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Free);
        Count += count;
    }

    /// <summary>Copies readable bytes into <paramref name="destination"/> and frees them; returns how many.</summary>
    public int Read(Span<byte> destination)
    {
        int length = Math.Min(destination.Length, Count);
        int first = Math.Min(length, _buffer.Length - _start);
        _buffer.AsSpan(_start, first).CopyTo(destination);
        _buffer.AsSpan(0, length - first).CopyTo(destination[first..]);
        _start = (_start + length) % _buffer.Length;
        Count -= length;
        return length;
    }

    /// <summary>Enlarges the buffer (clamped to <see cref="MaxCapacity"/>), keeping readable and out-of-order bytes in place.</summary>
    public void Grow(int capacity)
    {
        capacity = Math.Min(capacity, MaxCapacity);
        if (capacity <= _buffer.Length)
        {
            return;
        }

        var larger = new byte[capacity];
        int first = _buffer.Length - _start;
        _buffer.AsSpan(_start).CopyTo(larger);
        _buffer.AsSpan(0, _start).CopyTo(larger.AsSpan(first));
        _buffer = larger;
        _start = 0;
    }
}
