using System.Buffers;

namespace TsNet.Netstack.Sockets;

/// <summary>
/// The bytes of one lean stream pipe (<see cref="TcpReceivePipe"/>, <see cref="TcpSendPipe"/>): one contiguous array
/// rented from <see cref="ArrayPool{T}.Shared"/> holding <c>[start, written)</c>, of which <c>[start, published)</c>
/// is visible to the reader. One array means a read is one <see cref="ReadOnlySequence{T}"/> over it and no segment
/// objects exist; the array is returned as soon as the pipe is empty and neither side holds a view of it, so an idle
/// pipe holds no memory. Not thread-safe: the owning pipe calls every member under its lock.
/// </summary>
/// <remarks>
/// The writer's room comes from moving the unread bytes to the front (only while the reader holds no view of them) or
/// from a larger array (copying; an array the reader still views is kept until it advances). Moving only when at least
/// as many bytes were consumed as remain keeps the copying amortised to at most one copy per byte.
/// </remarks>
internal struct PipeBytes
{
    /// <summary>Smallest array rented: small messages need no regrowth.</summary>
    public const int MinRentBytes = 4096;

    private byte[]? _array;
    private byte[]? _retired; // an older array the reader still views (returned when it advances)
    private int _start;
    private int _published;
    private int _written;
    private int _heldStart; // _start when the reader's view was taken, in that view's array
    private int _heldLength;
    private int _sizeHint; // the last array's length: the next rental starts there
    private int _writableLength; // length of the span the writer holds
    private bool _readerHolds;
    private bool _writerHolds;

    /// <summary>Bytes the reader can see and has not consumed.</summary>
    public readonly int Unread => _published - _start;

    /// <summary>Bytes written but not yet published.</summary>
    public readonly int Unpublished => _written - _published;

    /// <summary>True while the reader holds a view (between <see cref="BeginRead"/> and <see cref="EndRead"/>).</summary>
    public readonly bool ReaderHolds => _readerHolds;

    /// <summary>True while an array is rented.</summary>
    public readonly bool HasArray => _array is not null;

    /// <summary>Room for at least <paramref name="sizeHint"/> bytes (1 when 0) at the write position; the writer holds it until <see cref="EndWrite"/> (or its next call here).</summary>
    public Memory<byte> GetWritable(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        int need = Math.Max(sizeHint, 1);
        if (_array is null || _array.Length - _written < need)
        {
            MakeRoom(need);
        }

        _writerHolds = true;
        _writableLength = _array!.Length - _written;
        return _array.AsMemory(_written);
    }

    /// <summary>
    /// The writer filled <paramref name="bytes"/> more of the room it got. As on a <see cref="System.IO.Pipelines.Pipe"/>,
    /// one room may be advanced in several steps (Kestrel's buffer writer commits as it goes); the writer holds the rest
    /// until <see cref="EndWrite"/> or its next <see cref="GetWritable"/>.
    /// </summary>
    public void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > 0 && !_writerHolds)
        {
            throw new InvalidOperationException("No memory to advance: call GetMemory or GetSpan first.");
        }

        // As a pipe: beyond the memory handed out is an argument error.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, _writableLength);

        _written += bytes;
        _writableLength -= bytes;
    }

    /// <summary>The writer gave up the rest of its room (it published, or it is gone).</summary>
    public void EndWrite()
    {
        _writerHolds = false;
        _writableLength = 0;
        ReleaseIfEmpty();
    }

    /// <summary>Makes every written byte visible to the reader; true when that added any.</summary>
    public bool Publish()
    {
        bool added = _written > _published;
        _published = _written;
        return added;
    }

    /// <summary>The reader's view of the published bytes; it holds it until <see cref="EndRead"/>.</summary>
    public ReadOnlySequence<byte> BeginRead()
    {
        _readerHolds = true;
        _heldStart = _start;
        _heldLength = Unread;
        return _array is { } array ? new ReadOnlySequence<byte>(array, _start, _heldLength) : ReadOnlySequence<byte>.Empty;
    }

    /// <summary>The loop reader's view of the published bytes as memory; it holds it until <see cref="EndRead"/>.</summary>
    public ReadOnlyMemory<byte> BeginReadMemory()
    {
        _readerHolds = true;
        _heldStart = _start;
        _heldLength = Unread;
        return _array is { } array ? array.AsMemory(_start, _heldLength) : ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>Offset of <paramref name="position"/> from the start of the reader's view (throws if it is not in it).</summary>
    public readonly int OffsetInView(SequencePosition position)
    {
        if (!_readerHolds)
        {
            throw new InvalidOperationException("No read to advance: call ReadAsync or TryRead first.");
        }

        object? owner = position.GetObject();
        int offset = owner is null || (owner is byte[] { Length: 0 }) ? 0 : position.GetInteger() - _heldStart;
        bool ours = owner is null || owner is byte[] { Length: 0 } || ReferenceEquals(owner, HeldArray);
        if (!ours || offset < 0 || offset > _heldLength)
        {
            throw new ArgumentOutOfRangeException(nameof(position), "The position is not in the buffer of the last read.");
        }

        return offset;
    }

    /// <summary>
    /// The reader consumed <paramref name="consumed"/> bytes of its view and looked at <paramref name="examined"/>;
    /// returns true when it examined every published byte (its next read waits for more).
    /// </summary>
    public bool EndRead(int consumed, int examined)
    {
        bool examinedAll = _start + Math.Max(consumed, examined) >= _published;
        _start += consumed;
        _readerHolds = false;
        _heldLength = 0;
        if (_retired is { } retired)
        {
            _retired = null;
            ArrayPool<byte>.Shared.Return(retired);
        }

        ReleaseIfEmpty();
        return examinedAll;
    }

    /// <summary>Drops every byte (the reader is gone); the array goes back once neither side holds a view.</summary>
    public void Discard()
    {
        if (_writerHolds || _readerHolds)
        {
            // A view is still in use: keep the array, forget the bytes.
            _start = _written;
            _published = _written;
            return;
        }

        _start = _published = _written = 0;
        ReleaseIfEmpty();
    }

    /// <summary>The reader is gone for good: it holds no view any more.</summary>
    public void DropReaderView()
    {
        _readerHolds = false;
        _heldLength = 0;
        if (_retired is { } retired)
        {
            _retired = null;
            ArrayPool<byte>.Shared.Return(retired);
        }
    }

    private readonly byte[]? HeldArray => _retired ?? _array;

    private void ReleaseIfEmpty()
    {
        if (_start != _written || _readerHolds || _writerHolds || _array is not { } array)
        {
            return;
        }

        _array = null;
        _start = _published = _written = 0;
        _sizeHint = array.Length / 2; // start near the last need; shrink once bursts get smaller
        ArrayPool<byte>.Shared.Return(array);
    }

    private void MakeRoom(int need)
    {
        int live = _written - _start;
        if (_array is { } current && !_readerHolds && _start >= live && current.Length - live >= need)
        {
            // Compact: at least as many bytes were consumed as are moved.
            current.AsSpan(_start, live).CopyTo(current);
            _published -= _start;
            _written -= _start;
            _start = 0;
            return;
        }

        int size = Math.Max(Math.Max(live + need, MinRentBytes), Math.Max(2 * (_array?.Length ?? 0), _sizeHint));
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        if (_array is { } old)
        {
            old.AsSpan(_start, live).CopyTo(larger);
            if (_readerHolds && _retired is null)
            {
                _retired = old; // the reader's view: returned when it advances
            }
            else
            {
                ArrayPool<byte>.Shared.Return(old);
            }
        }

        _published -= _start;
        _written -= _start;
        _start = 0;
        _array = larger;
    }
}
