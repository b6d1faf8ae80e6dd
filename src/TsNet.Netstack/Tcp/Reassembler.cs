using System.Buffers;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// Which sequence ranges above RCV.NXT hold out-of-order data (the bytes themselves sit in the
/// <see cref="ReceiveBuffer"/>). Ranges are kept sorted, disjoint and non-adjacent in a fixed array: the bound on
/// ranges (holes) is the bound on work per segment, and a segment that would need one more range is refused (the
/// caller drops and counts it; the peer retransmits). The byte bound is the receive window the caller enforces.
/// </summary>
/// <remarks>
/// Each range remembers when a segment last touched it, so SACK blocks can follow RFC 2018 §4: the block holding
/// the newest segment first, then the most recently changed others. The range array is rented from
/// <see cref="ArrayPool{T}.Shared"/> with the first out-of-order segment and returned when the last range goes, so
/// a connection without holes holds none.
/// </remarks>
internal struct Reassembler
{
    private Range[]? _ranges;
    private long _clock;

    /// <summary>Creates a reassembler that tracks at most <paramref name="maxRanges"/> ranges.</summary>
    public Reassembler(int maxRanges)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRanges, 1);
        MaxRanges = maxRanges;
    }

    /// <summary>Number of ranges held.</summary>
    public int Count { get; private set; }

    /// <summary>Most ranges held at once.</summary>
    public int MaxRanges { get; }

    /// <summary>True while the range array is rented.</summary>
    public bool HasStorage => _ranges is not null;

    /// <summary>True when no out-of-order data is held.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>The range at <paramref name="index"/> in sequence order.</summary>
    public SackBlock this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return new(_ranges![index].Left, _ranges[index].Right);
        }
    }

    /// <summary>The sequence number just after the highest byte held (only meaningful when not empty).</summary>
    public SeqNum HighestRight => Count > 0 ? _ranges![Count - 1].Right : default;

    /// <summary>
    /// Records <c>[left, right)</c>, merging with overlapping or adjacent ranges. False (nothing changed) when the
    /// bound on ranges would be exceeded.
    /// </summary>
    public bool Add(SeqNum left, SeqNum right)
    {
        if (right <= left)
        {
            return true;
        }

        Range[] ranges = _ranges ??= ArrayPool<Range>.Shared.Rent(MaxRanges);

        // First range that ends at or after `left` (may merge), and first range that starts after `right`.
        int first = 0;
        while (first < Count && ranges[first].Right < left)
        {
            first++;
        }

        int last = first;
        while (last < Count && ranges[last].Left <= right)
        {
            last++;
        }

        int merged = last - first; // ranges [first, last) merge with the new one
        if (merged == 0 && Count == MaxRanges)
        {
            return false;
        }

        _clock++;
        if (merged > 0)
        {
            left = SeqNum.Min(left, ranges[first].Left);
            right = SeqNum.Max(right, ranges[last - 1].Right);
        }

        int shift = 1 - merged; // net change in count
        if (shift != 0)
        {
            Array.Copy(ranges, last, ranges, last + shift, Count - last);
        }

        ranges[first] = new Range(left, right, _clock);
        Count += shift;
        return true;
    }

    /// <summary>
    /// If the first range starts at or before <paramref name="next"/> (RCV.NXT after in-order data), removes it and
    /// returns the new RCV.NXT (its right edge); otherwise returns <paramref name="next"/>. Ranges wholly below
    /// <paramref name="next"/> are discarded too.
    /// </summary>
    public SeqNum Advance(SeqNum next)
    {
        if (_ranges is not { } ranges)
        {
            return next;
        }

        int drop = 0;
        while (drop < Count && ranges[drop].Left <= next)
        {
            next = SeqNum.Max(next, ranges[drop].Right);
            drop++;
        }

        if (drop > 0)
        {
            Array.Copy(ranges, drop, ranges, 0, Count - drop);
            Count -= drop;
        }

        if (Count == 0)
        {
            Clear();
        }

        return next;
    }

    /// <summary>Forgets everything and returns the range array.</summary>
    public void Clear()
    {
        Count = 0;
        if (_ranges is { } ranges)
        {
            _ranges = null;
            ArrayPool<Range>.Shared.Return(ranges);
        }
    }

    /// <summary>
    /// Appends up to <paramref name="max"/> blocks to <paramref name="blocks"/>, most recently changed range first
    /// (RFC 2018 §4). <paramref name="blocks"/> may already hold a D-SACK block (RFC 2883).
    /// </summary>
    public SackBlocks AppendSackBlocks(SackBlocks blocks, int max)
    {
        if (_ranges is not { } ranges)
        {
            return blocks;
        }

        long below = long.MaxValue;
        while (blocks.Count < max)
        {
            int best = -1;
            for (int i = 0; i < Count; i++)
            {
                if (ranges[i].Stamp < below && (best < 0 || ranges[i].Stamp > ranges[best].Stamp))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                break;
            }

            below = ranges[best].Stamp;
            blocks = blocks.Add(new SackBlock(ranges[best].Left, ranges[best].Right));
        }

        return blocks;
    }

    private readonly record struct Range(SeqNum Left, SeqNum Right, long Stamp);
}
