namespace TsNet.Netstack.Tcp;

/// <summary>
/// Which sequence ranges above RCV.NXT hold out-of-order data (the bytes themselves sit in the
/// <see cref="ReceiveBuffer"/>). Ranges are kept sorted, disjoint and non-adjacent in a fixed array: the bound on
/// ranges (holes) is the bound on work per segment, and a segment that would need one more range is refused (the
/// caller drops and counts it; the peer retransmits). The byte bound is the receive window the caller enforces.
/// </summary>
/// <remarks>
/// Each range remembers when a segment last touched it, so SACK blocks can follow RFC 2018 §4: the block holding
/// the newest segment first, then the most recently changed others.
/// </remarks>
internal sealed class Reassembler
{
    private readonly Range[] _ranges;
    private long _clock;

    /// <summary>Creates a reassembler that tracks at most <paramref name="maxRanges"/> ranges.</summary>
    public Reassembler(int maxRanges)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRanges, 1);
        _ranges = new Range[maxRanges];
    }

    /// <summary>Number of ranges held.</summary>
    public int Count { get; private set; }

    /// <summary>Most ranges held at once.</summary>
    public int MaxRanges => _ranges.Length;

    /// <summary>True when no out-of-order data is held.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>The range at <paramref name="index"/> in sequence order.</summary>
    public SackBlock this[int index] => new(_ranges[index].Left, _ranges[index].Right);

    /// <summary>The sequence number just after the highest byte held (only meaningful when not empty).</summary>
    public SeqNum HighestRight => _ranges[Count - 1].Right;

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

        // First range that ends at or after `left` (may merge), and first range that starts after `right`.
        int first = 0;
        while (first < Count && _ranges[first].Right < left)
        {
            first++;
        }

        int last = first;
        while (last < Count && _ranges[last].Left <= right)
        {
            last++;
        }

        int merged = last - first; // ranges [first, last) merge with the new one
        if (merged == 0 && Count == _ranges.Length)
        {
            return false;
        }

        _clock++;
        if (merged > 0)
        {
            left = SeqNum.Min(left, _ranges[first].Left);
            right = SeqNum.Max(right, _ranges[last - 1].Right);
        }

        int shift = 1 - merged; // net change in count
        if (shift != 0)
        {
            Array.Copy(_ranges, last, _ranges, last + shift, Count - last);
        }

        _ranges[first] = new Range(left, right, _clock);
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
        while (Count > 0 && _ranges[0].Left <= next)
        {
            next = SeqNum.Max(next, _ranges[0].Right);
            Array.Copy(_ranges, 1, _ranges, 0, Count - 1);
            Count--;
        }

        return next;
    }

    /// <summary>Forgets everything.</summary>
    public void Clear() => Count = 0;

    /// <summary>
    /// Appends up to <paramref name="max"/> blocks to <paramref name="blocks"/>, most recently changed range first
    /// (RFC 2018 §4). <paramref name="blocks"/> may already hold a D-SACK block (RFC 2883).
    /// </summary>
    public SackBlocks AppendSackBlocks(SackBlocks blocks, int max)
    {
        long below = long.MaxValue;
        while (blocks.Count < max)
        {
            int best = -1;
            for (int i = 0; i < Count; i++)
            {
                if (_ranges[i].Stamp < below && (best < 0 || _ranges[i].Stamp > _ranges[best].Stamp))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                break;
            }

            below = _ranges[best].Stamp;
            blocks = blocks.Add(new SackBlock(_ranges[best].Left, _ranges[best].Right));
        }

        return blocks;
    }

    private readonly record struct Range(SeqNum Left, SeqNum Right, long Stamp);
}
