using System.Buffers;

namespace TsNet.Netstack.Tcp;

/// <summary>What the sender knows about one transmitted segment.</summary>
[Flags]
internal enum SentSegmentFlags : byte
{
    /// <summary>Sent, neither SACKed nor deemed lost.</summary>
    None = 0,

    /// <summary>The peer SACKed all of it.</summary>
    Sacked = 1,

    /// <summary>Deemed lost (RACK or a timeout) and not retransmitted since.</summary>
    Lost = 2,

    /// <summary>Sent more than once (its send time is the latest transmission's).</summary>
    Retransmitted = 4,

    /// <summary>Its last sequence number is our FIN (which SACK blocks never cover).</summary>
    Fin = 8,
}

/// <summary>One transmitted segment: sequence range <c>[Start, End)</c> (data, and FIN as its last number) and when it was last sent.</summary>
internal struct SentSegment
{
    /// <summary>First sequence number.</summary>
    public SeqNum Start;

    /// <summary>Sequence number after the segment.</summary>
    public SeqNum End;

    /// <summary>Time of the latest transmission (ticks).</summary>
    public long SentAt;

    /// <summary>SACKed / lost / retransmitted.</summary>
    public SentSegmentFlags Flags;

    /// <summary>Sequence space covered.</summary>
    public readonly int Length => End - Start;

    /// <summary>End of the data (without the FIN): what a SACK block must reach to cover the segment.</summary>
    public readonly SeqNum DataEnd => Has(SentSegmentFlags.Fin) ? End - 1 : End;

    /// <summary>True when any of <paramref name="flags"/> is set.</summary>
    public readonly bool Has(SentSegmentFlags flags) => (Flags & flags) != 0;
}

/// <summary>
/// The sender's per-segment record for RACK (RFC 8985 §5.2): every segment sent and not yet cumulatively acknowledged,
/// in sequence order, contiguous from SND.UNA to SND.MAX, each with its latest send time and SACKed / lost /
/// retransmitted flags, plus running totals for <c>pipe</c>. Segments are split when a retransmission covers part of
/// one. The array is rented from <see cref="ArrayPool{T}.Shared"/> with the first segment and returned when the last
/// is acknowledged; past <see cref="MaxSegments"/> new data extends the newest segment instead of adding one, so the
/// bound holds however small the segments are.
/// </summary>
internal sealed class SentSegments
{
    private SentSegment[] _items = [];
    private int _head;
    private int _peak; // most segments held during the current rental
    private int _sizeHint;

    /// <summary>Creates an empty record that holds at most <paramref name="maxSegments"/> segments.</summary>
    public SentSegments(int maxSegments)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSegments, 2);
        MaxSegments = maxSegments;
    }

    /// <summary>Most segments tracked at once.</summary>
    public int MaxSegments { get; }

    /// <summary>Segments held.</summary>
    public int Count { get; private set; }

    /// <summary>True when nothing is outstanding.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>True while the array is rented.</summary>
    public bool HasStorage => _items.Length > 0;

    /// <summary>Segments flagged <see cref="SentSegmentFlags.Sacked"/> (RACK.segs_sacked).</summary>
    public int SackedCount { get; private set; }

    /// <summary>Sequence space of SACKed segments.</summary>
    public int SackedBytes { get; private set; }

    /// <summary>Segments flagged <see cref="SentSegmentFlags.Lost"/>.</summary>
    public int LostCount { get; private set; }

    /// <summary>Sequence space of lost segments (not SACKed, not retransmitted since).</summary>
    public int LostBytes { get; private set; }

    /// <summary>End of the highest segment retransmitted (segments above it were sent once, in order); see <see cref="HasRetransmitted"/>.</summary>
    public SeqNum RetransmittedHigh { get; private set; }

    /// <summary>True when some held segment may have been retransmitted (<see cref="RetransmittedHigh"/> is meaningful).</summary>
    public bool HasRetransmitted { get; private set; }

    /// <summary>The segment at <paramref name="index"/> (0 = the oldest, containing SND.UNA).</summary>
    public ref SentSegment this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return ref _items[_head + index];
        }
    }

    /// <summary>
    /// Records new data <c>[start, end)</c> sent at <paramref name="now"/>, <paramref name="fin"/> when its last number
    /// is the FIN; <paramref name="start"/> must be the end of the newest segment.
    /// </summary>
    public void AddNew(SeqNum start, SeqNum end, long now, bool fin = false)
    {
        if (end <= start)
        {
            return;
        }

        if (Count > 0 && Count >= MaxSegments)
        {
            // At the bound: the newest segment grows instead (it loses its SACKed state; pipe stays conservative).
            ref SentSegment last = ref this[Count - 1];
            ClearFlag(ref last, SentSegmentFlags.Sacked | SentSegmentFlags.Lost);
            last.End = end;
            last.SentAt = now;
            last.Flags |= fin ? SentSegmentFlags.Fin : 0;
            return;
        }

        EnsureRoom();
        _items[_head + Count] = new SentSegment { Start = start, End = end, SentAt = now, Flags = fin ? SentSegmentFlags.Fin : 0 };
        Count++;
        _peak = Math.Max(_peak, Count);
    }

    /// <summary>
    /// Records a retransmission of <c>[start, end)</c> at <paramref name="now"/>: the segments it covers (split at its
    /// edges) get the new send time and <see cref="SentSegmentFlags.Retransmitted"/>, and stop being lost.
    /// </summary>
    public void MarkRetransmitted(SeqNum start, SeqNum end, long now)
    {
        int index = IndexOf(start);
        if (index < 0)
        {
            return;
        }

        if (this[index].Start < start && TrySplit(index, start))
        {
            index++;
        }

        for (; index < Count && this[index].Start < end; index++)
        {
            if (this[index].End > end)
            {
                TrySplit(index, end);
            }

            ref SentSegment segment = ref this[index];
            ClearFlag(ref segment, SentSegmentFlags.Lost);
            segment.Flags |= SentSegmentFlags.Retransmitted;
            segment.SentAt = now;
            RetransmittedHigh = HasRetransmitted ? SeqNum.Max(RetransmittedHigh, segment.End) : segment.End;
            HasRetransmitted = true;
        }
    }

    /// <summary>Flags the segment at <paramref name="index"/> SACKed (no longer lost).</summary>
    public void MarkSacked(int index)
    {
        ref SentSegment segment = ref this[index];
        ClearFlag(ref segment, SentSegmentFlags.Lost);
        SetFlag(ref segment, SentSegmentFlags.Sacked);
    }

    /// <summary>Flags the segment at <paramref name="index"/> lost.</summary>
    public void MarkLost(int index) => SetFlag(ref this[index], SentSegmentFlags.Lost);

    /// <summary>Forgets every SACKed flag (the peer may have reneged).</summary>
    public void ClearSacked()
    {
        for (int i = 0; i < Count; i++)
        {
            ClearFlag(ref this[i], SentSegmentFlags.Sacked);
        }
    }

    /// <summary>Drops the oldest segment (wholly acknowledged).</summary>
    public void RemoveOldest()
    {
        ref SentSegment oldest = ref this[0];
        ClearFlag(ref oldest, SentSegmentFlags.Sacked | SentSegmentFlags.Lost);
        _head++;
        Count--;
        if (Count == 0)
        {
            Clear();
        }
        else if (RetransmittedHigh < this[0].Start)
        {
            RetransmittedHigh = this[0].Start; // keep the mark within the window so comparisons stay meaningful
        }
    }

    /// <summary>The oldest segment lost its first bytes to a cumulative ACK at <paramref name="unacknowledged"/>.</summary>
    public void TrimOldest(SeqNum unacknowledged)
    {
        ref SentSegment oldest = ref this[0];
        int trimmed = unacknowledged - oldest.Start;
        if (trimmed <= 0 || trimmed >= oldest.Length)
        {
            return;
        }

        if (oldest.Has(SentSegmentFlags.Sacked))
        {
            SackedBytes -= trimmed;
        }

        if (oldest.Has(SentSegmentFlags.Lost))
        {
            LostBytes -= trimmed;
        }

        oldest.Start = unacknowledged;
    }

    /// <summary>Index of the segment containing <paramref name="seq"/>, or −1.</summary>
    public int IndexOf(SeqNum seq)
    {
        if (Count == 0 || seq < this[0].Start || seq >= this[Count - 1].End)
        {
            return -1;
        }

        // Binary search over the contiguous, ordered segments by offset from the oldest.
        SeqNum origin = this[0].Start;
        int offset = seq - origin;
        int low = 0;
        int high = Count - 1;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (this[middle].Start - origin <= offset)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    /// <summary>Forgets everything and returns the array.</summary>
    public void Clear()
    {
        Count = 0;
        _head = 0;
        RetransmittedHigh = default;
        HasRetransmitted = false;
        SackedCount = 0;
        SackedBytes = 0;
        LostCount = 0;
        LostBytes = 0;
        if (_items.Length > 0)
        {
            _sizeHint = Math.Max(_sizeHint / 2, _peak);
            _peak = 0;
            ArrayPool<SentSegment>.Shared.Return(_items);
            _items = [];
        }
    }

    private bool TrySplit(int index, SeqNum at)
    {
        if (Count >= MaxSegments)
        {
            return false;
        }

        EnsureRoom();
        int position = _head + index;
        Array.Copy(_items, position + 1, _items, position + 2, Count - index - 1);
        SentSegment whole = _items[position];
        _items[position + 1] = whole with { Start = at };
        _items[position].End = at;
        _items[position].Flags &= ~SentSegmentFlags.Fin;
        Count++;
        _peak = Math.Max(_peak, Count);
        if (whole.Has(SentSegmentFlags.Sacked))
        {
            SackedCount++;
        }

        if (whole.Has(SentSegmentFlags.Lost))
        {
            LostCount++;
        }

        return true;
    }

    /// <summary>Makes room for one more segment at the end (compacting or renting a larger array).</summary>
    private void EnsureRoom()
    {
        if (_head + Count < _items.Length)
        {
            return;
        }

        if (_head > 0 && _head >= Count)
        {
            Array.Copy(_items, _head, _items, 0, Count);
            _head = 0;
            return;
        }

        int size = Math.Min(Math.Max(Math.Max(16, 2 * _items.Length), _sizeHint), MaxSegments);
        SentSegment[] larger = ArrayPool<SentSegment>.Shared.Rent(Math.Max(size, Count + 1));
        if (_items.Length > 0)
        {
            Array.Copy(_items, _head, larger, 0, Count);
            ArrayPool<SentSegment>.Shared.Return(_items);
        }

        _items = larger;
        _head = 0;
    }

    private void SetFlag(ref SentSegment segment, SentSegmentFlags flag)
    {
        if (segment.Has(flag))
        {
            return;
        }

        segment.Flags |= flag;
        Account(segment, flag, +1);
    }

    private void ClearFlag(ref SentSegment segment, SentSegmentFlags flags)
    {
        if ((flags & SentSegmentFlags.Sacked) != 0 && segment.Has(SentSegmentFlags.Sacked))
        {
            segment.Flags &= ~SentSegmentFlags.Sacked;
            Account(segment, SentSegmentFlags.Sacked, -1);
        }

        if ((flags & SentSegmentFlags.Lost) != 0 && segment.Has(SentSegmentFlags.Lost))
        {
            segment.Flags &= ~SentSegmentFlags.Lost;
            Account(segment, SentSegmentFlags.Lost, -1);
        }
    }

    private void Account(in SentSegment segment, SentSegmentFlags flag, int sign)
    {
        if (flag == SentSegmentFlags.Sacked)
        {
            SackedCount += sign;
            SackedBytes += sign * segment.Length;
        }
        else if (flag == SentSegmentFlags.Lost)
        {
            LostCount += sign;
            LostBytes += sign * segment.Length;
        }
    }
}
