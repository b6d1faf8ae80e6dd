using System.Buffers;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// The sender's SACK scoreboard (RFC 6675 §3): which sequence ranges above SND.UNA the peer reported as received.
/// Ranges are sorted, disjoint and bounded in number (a block that would exceed the bound is ignored; the information
/// returns with later ACKs). D-SACK blocks (RFC 2883: at or below the cumulative ACK) and blocks outside
/// (SND.UNA, SND.MAX] are ignored. SACKed bytes stay in the send buffer until cumulatively acknowledged, because a
/// receiver may renege. The range array is rented from <see cref="ArrayPool{T}.Shared"/> with the first SACKed range and
/// returned when the last one goes.
/// </summary>
internal struct SackScoreboard
{
    private readonly int _maxRanges;
    private SackBlock[] _ranges = [];

    /// <summary>Creates a scoreboard that tracks at most <paramref name="maxRanges"/> ranges.</summary>
    public SackScoreboard(int maxRanges)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRanges, 1);
        _maxRanges = maxRanges;
    }

    /// <summary>True while the range array is rented.</summary>
    public bool HasStorage => _ranges.Length > 0;

    /// <summary>Number of SACKed ranges.</summary>
    public int Count { get; private set; }

    /// <summary>True when nothing above SND.UNA is SACKed.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Total SACKed bytes.</summary>
    public int SackedBytes { get; private set; }

    /// <summary>The range at <paramref name="index"/> in sequence order.</summary>
    public SackBlock this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return _ranges[index];
        }
    }

    /// <summary>Just after the highest SACKed byte (only meaningful when not empty).</summary>
    public SeqNum HighestSacked => _ranges[Count - 1].Right;

    /// <summary>Records the SACK blocks of an ACK; returns true when they SACKed bytes not known before.</summary>
    public bool Update(in SackBlocks blocks, SeqNum unacknowledged, SeqNum sendMax)
    {
        bool news = false;
        for (int i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            if (block.Right <= block.Left || block.Left < unacknowledged || block.Right > sendMax)
            {
                continue; // D-SACK, stale, or nonsense
            }

            int before = SackedBytes;
            Add(block.Left, block.Right);
            news |= SackedBytes != before;
        }

        return news;
    }

    /// <summary>Forgets what the cumulative ACK now covers.</summary>
    public void Advance(SeqNum unacknowledged)
    {
        int drop = 0;
        while (drop < Count && _ranges[drop].Right <= unacknowledged)
        {
            SackedBytes -= _ranges[drop].Length;
            drop++;
        }

        if (drop > 0)
        {
            Array.Copy(_ranges, drop, _ranges, 0, Count - drop);
            Count -= drop;
        }

        if (Count > 0 && _ranges[0].Left < unacknowledged)
        {
            SackedBytes -= unacknowledged - _ranges[0].Left;
            _ranges[0] = _ranges[0] with { Left = unacknowledged };
        }

        if (Count == 0)
        {
            Clear();
        }
    }

    /// <summary>Forgets everything (after repeated timeouts the peer may have reneged) and returns the range array.</summary>
    public void Clear()
    {
        Count = 0;
        SackedBytes = 0;
        if (_ranges.Length > 0)
        {
            ArrayPool<SackBlock>.Shared.Return(_ranges);
            _ranges = [];
        }
    }

    /// <summary>True when <paramref name="seq"/> was SACKed; <paramref name="end"/> is then the end of its range.</summary>
    public bool IsSacked(SeqNum seq, out SeqNum end)
    {
        for (int i = 0; i < Count; i++)
        {
            if (seq.IsInRange(_ranges[i].Left, _ranges[i].Right))
            {
                end = _ranges[i].Right;
                return true;
            }
        }

        end = seq;
        return false;
    }

    /// <summary>Left edge of the first SACKed range above <paramref name="seq"/>, or <paramref name="limit"/> when none is below it.</summary>
    public SeqNum NextSackedAfter(SeqNum seq, SeqNum limit)
    {
        for (int i = 0; i < Count; i++)
        {
            if (_ranges[i].Left > seq)
            {
                return SeqNum.Min(_ranges[i].Left, limit);
            }
        }

        return limit;
    }

    /// <summary>SACKed bytes in <c>[from, to)</c>.</summary>
    public int SackedBetween(SeqNum from, SeqNum to)
    {
        int bytes = 0;
        for (int i = 0; i < Count; i++)
        {
            SeqNum left = SeqNum.Max(_ranges[i].Left, from);
            SeqNum right = SeqNum.Min(_ranges[i].Right, to);
            if (right > left)
            {
                bytes += right - left;
            }
        }

        return bytes;
    }

    /// <summary>
    /// The lowest sequence number above which RFC 6675 IsLost() is false: an un-SACKed byte below it has either
    /// <paramref name="dupThreshold"/> SACKed ranges or more than (DupThresh − 1)·SMSS SACKed bytes above it.
    /// Returns <paramref name="unacknowledged"/> when nothing counts as lost.
    /// </summary>
    public SeqNum LostBoundary(SeqNum unacknowledged, int mss, int dupThreshold)
    {
        long bytes = 0;
        int ranges = 0;
        for (int i = Count - 1; i >= 0; i--)
        {
            bytes += _ranges[i].Length;
            ranges++;
            if (ranges >= dupThreshold || bytes > (long)(dupThreshold - 1) * mss)
            {
                return _ranges[i].Left;
            }
        }

        return unacknowledged;
    }

    /// <summary>The first un-SACKed range at or after <paramref name="from"/> and below the highest SACKed byte.</summary>
    public bool TryGetHole(SeqNum from, out SeqNum start, out SeqNum end)
    {
        start = from;
        end = from;
        for (int i = 0; i < Count; i++)
        {
            if (start < _ranges[i].Left)
            {
                end = _ranges[i].Left;
                return true;
            }

            start = SeqNum.Max(start, _ranges[i].Right);
        }

        return false;
    }

    private void Add(SeqNum left, SeqNum right)
    {
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

        int merged = last - first;
        if (merged == 0 && Count == _maxRanges)
        {
            return;
        }

        if (_ranges.Length == 0)
        {
            _ranges = ArrayPool<SackBlock>.Shared.Rent(_maxRanges);
        }

        for (int i = first; i < last; i++)
        {
            SackedBytes -= _ranges[i].Length;
        }

        if (merged > 0)
        {
            left = SeqNum.Min(left, _ranges[first].Left);
            right = SeqNum.Max(right, _ranges[last - 1].Right);
        }

        int shift = 1 - merged;
        if (shift != 0)
        {
            Array.Copy(_ranges, last, _ranges, last + shift, Count - last);
        }

        _ranges[first] = new SackBlock(left, right);
        Count += shift;
        SackedBytes += right - left;
    }
}
