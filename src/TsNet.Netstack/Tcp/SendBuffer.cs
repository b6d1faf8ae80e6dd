namespace TsNet.Netstack.Tcp;

/// <summary>
/// The bytes the application wrote that the peer has not acknowledged yet: a ring over one array. Offset 0 is
/// the oldest unacknowledged byte (SND.UNA, or the first data byte while the SYN is unacknowledged); bytes leave
/// only when cumulatively acknowledged (<see cref="Consume"/>), so retransmissions read them again with
/// <see cref="Peek"/>. The array is allocated once per connection and grows only on request, up to a maximum.
/// </summary>
internal sealed class SendBuffer
{
    private byte[] _buffer;
    private int _start;

    /// <summary>Creates a buffer of <paramref name="capacity"/> bytes that may grow to <paramref name="maxCapacity"/>.</summary>
    public SendBuffer(int capacity, int maxCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCapacity, capacity);
        _buffer = new byte[capacity];
        MaxCapacity = maxCapacity;
    }

    /// <summary>Bytes held (unsent plus sent-but-unacknowledged).</summary>
    public int Count { get; private set; }

    /// <summary>Current size of the buffer.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Largest size <see cref="Grow"/> may reach.</summary>
    public int MaxCapacity { get; }

    /// <summary>Room for new bytes.</summary>
    public int Free => _buffer.Length - Count;

    /// <summary>Copies as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int length = Math.Min(data.Length, Free);
        int tail = (_start + Count) % _buffer.Length;
        int first = Math.Min(length, _buffer.Length - tail);
        data[..first].CopyTo(_buffer.AsSpan(tail));
        data[first..length].CopyTo(_buffer);
        Count += length;
        return length;
    }

    /// <summary>Copies bytes starting <paramref name="offset"/> bytes in; returns how many (bounded by both sides).</summary>
    public int Peek(int offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int length = Math.Min(destination.Length, Count - offset);
        if (length <= 0)
        {
            return 0;
        }

        int from = (_start + offset) % _buffer.Length;
        int first = Math.Min(length, _buffer.Length - from);
        _buffer.AsSpan(from, first).CopyTo(destination);
        _buffer.AsSpan(0, length - first).CopyTo(destination[first..]);
        return length;
    }

    /// <summary>Drops the <paramref name="count"/> oldest bytes (they were acknowledged).</summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        _start = (_start + count) % _buffer.Length;
        Count -= count;
        if (Count == 0)
        {
            _start = 0;
        }
    }

    /// <summary>Enlarges the buffer to <paramref name="capacity"/> (clamped to <see cref="MaxCapacity"/>), keeping its bytes.</summary>
    public void Grow(int capacity)
    {
        capacity = Math.Min(capacity, MaxCapacity);
        if (capacity <= _buffer.Length)
        {
            return;
        }

        var larger = new byte[capacity];
        Peek(0, larger);
        _buffer = larger;
        _start = 0;
    }
}
