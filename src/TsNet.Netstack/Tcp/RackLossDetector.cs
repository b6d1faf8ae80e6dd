namespace TsNet.Netstack.Tcp;

/// <summary>
/// RACK time-based loss detection (RFC 8985 §6): a segment is lost when a segment sent after it was delivered (ACKed
/// or SACKed) and more than RACK.rtt + reo_wnd passed since it was sent. The reordering window is min_RTT/4 (times a
/// multiplier that grows by one for each round trip that brings D-SACKs and falls back after 16 recoveries without),
/// capped at SRTT; while no reordering was seen it is zero in recovery or once DupThresh segments are SACKed, which
/// keeps the classic three-duplicate-ACK speed on paths that do not reorder. Owns the per-segment record
/// (<see cref="Segments"/>); the connection reports transmissions and ACKs and acts on lost segments.
/// </summary>
/// <remarks>
/// Besides the RFC's reordering signal (a never-retransmitted segment delivered below the highest delivered one), a
/// D-SACK counts as reordering seen: it means a retransmission was unnecessary, which on a path that does not
/// duplicate packets is what large reordering looks like (Linux reacts to D-SACKed retransmissions the same way).
/// </remarks>
internal sealed class RackLossDetector
{
    /// <summary>Recoveries without D-SACK after which the reordering window multiplier resets (RFC 8985 §6.2 step 4).</summary>
    private const int ReorderWindowPersistRecoveries = 16;

    /// <summary>Largest reordering window multiplier; the window is capped at SRTT anyway, this only bounds the arithmetic.</summary>
    private const int MaxReorderWindowMultiplier = 64;

    /// <summary>How long a minimum RTT sample stays valid (Linux tcp_min_rtt_wlen = 300 s): paths change.</summary>
    private static readonly long MinRttWindow = TimeSpan.FromSeconds(300).Ticks;

    private readonly uint _timestampOffset;
    private bool _hasDelivery;
    private long _xmitTime; // RACK.xmit_ts
    private SeqNum _endSeq; // RACK.end_seq
    private bool _hasFack;
    private SeqNum _fack; // RACK.fack
    private long _minRttStamp;
    private int _reorderWindowPersist;
    private bool _dsackRoundActive;
    private SeqNum _dsackRound;

    /// <summary>Creates a detector tracking at most <paramref name="maxSegments"/> segments; <paramref name="timestampOffset"/> maps send times to our TSval clock.</summary>
    public RackLossDetector(int maxSegments, uint timestampOffset)
    {
        Segments = new SentSegments(maxSegments);
        _timestampOffset = timestampOffset;
    }

    /// <summary>The segments sent and not yet cumulatively acknowledged.</summary>
    public SentSegments Segments { get; }

    /// <summary>RACK.rtt: the RTT of the most recently sent segment that was delivered (ticks).</summary>
    public long Rtt { get; private set; }

    /// <summary>RACK.min_RTT (ticks); <see cref="long.MaxValue"/> before any sample.</summary>
    public long MinRtt { get; private set; } = long.MaxValue;

    /// <summary>RACK.reordering_seen.</summary>
    public bool ReorderingSeen { get; private set; }

    /// <summary>RACK.reo_wnd_mult.</summary>
    public int ReorderWindowMultiplier { get; private set; } = 1;

    /// <summary>RFC 8985 §6.2 RACK_sent_after: (t1, seq1) was sent after (t2, seq2).</summary>
    public static bool SentAfter(long time1, SeqNum end1, long time2, SeqNum end2) => time1 > time2 || (time1 == time2 && end1 > end2);

    /// <summary>Feeds an RTT measurement into the windowed minimum.</summary>
    public void OnRttSample(long rtt, long now)
    {
        if (rtt < 0)
        {
            return;
        }

        if (rtt <= MinRtt || now - _minRttStamp > MinRttWindow)
        {
            MinRtt = rtt;
            _minRttStamp = now;
        }
    }

    /// <summary>
    /// An ACK arrived: removes what <paramref name="acknowledged"/> covers, flags what its SACK blocks cover, and
    /// updates RACK.xmit_ts / end_seq / rtt, RACK.fack and reordering_seen from the newly delivered segments (RFC 8985
    /// §6.2 steps 2–3). <paramref name="timestamps"/> is the ACK's timestamps option, used to reject ambiguous samples.
    /// </summary>
    public void OnAck(SeqNum acknowledged, in SackBlocks sack, SeqNum sendMax, TcpTimestamps? timestamps, long now)
    {
        var segments = Segments;
        while (!segments.IsEmpty && segments[0].End <= acknowledged)
        {
            ref SentSegment oldest = ref segments[0];
            if (!oldest.Has(SentSegmentFlags.Sacked))
            {
                Deliver(oldest, cumulative: true, timestamps, now);
            }

            segments.RemoveOldest();
        }

        if (!segments.IsEmpty)
        {
            segments.TrimOldest(acknowledged);
        }

        if (sack.Count == 0 || segments.IsEmpty)
        {
            return;
        }

        // Ascending order, as the RFC's reordering detection expects (blocks come most recent first).
        Span<SackBlock> blocks = stackalloc SackBlock[SackBlocks.MaxCount];
        int count = 0;
        for (int i = 0; i < sack.Count; i++)
        {
            var block = sack[i];
            if (block.Right <= block.Left || block.Left < acknowledged || block.Right > sendMax)
            {
                continue; // D-SACK, stale or nonsense
            }

            int at = count++;
            while (at > 0 && blocks[at - 1].Left > block.Left)
            {
                blocks[at] = blocks[at - 1];
                at--;
            }

            blocks[at] = block;
        }

        for (int b = 0; b < count; b++)
        {
            int index = segments.IndexOf(blocks[b].Left);
            if (index < 0)
            {
                continue;
            }

            if (segments[index].Start < blocks[b].Left)
            {
                index++; // partly covered: not SACKed as a whole
            }

            for (; index < segments.Count && segments[index].DataEnd <= blocks[b].Right; index++)
            {
                if (!segments[index].Has(SentSegmentFlags.Sacked))
                {
                    segments.MarkSacked(index);
                    Deliver(segments[index], cumulative: false, timestamps, now);
                }
            }
        }
    }

    /// <summary>
    /// RFC 8985 §6.2 step 4, D-SACK part: a round trip that brings a D-SACK widens the reordering window by one
    /// min_RTT/4 and keeps it for 16 recoveries. Call on every ACK with <paramref name="dsack"/> telling whether it
    /// carried one.
    /// </summary>
    public void UpdateReorderWindow(SeqNum unacknowledged, SeqNum sendNext, bool dsack)
    {
        if (_dsackRoundActive && unacknowledged >= _dsackRound)
        {
            _dsackRoundActive = false;
        }

        if (!dsack)
        {
            return;
        }

        ReorderingSeen = true;
        if (!_dsackRoundActive)
        {
            _dsackRoundActive = true;
            _dsackRound = sendNext;
            ReorderWindowMultiplier = Math.Min(ReorderWindowMultiplier + 1, MaxReorderWindowMultiplier);
            _reorderWindowPersist = ReorderWindowPersistRecoveries;
        }
    }

    /// <summary>A fast recovery or timeout recovery ended: the widened window lasts only so many of them.</summary>
    public void OnRecoveryExit()
    {
        _reorderWindowPersist--;
        if (_reorderWindowPersist <= 0)
        {
            ReorderWindowMultiplier = 1;
        }
    }

    /// <summary>RACK.reo_wnd (RFC 8985 §6.2 step 4) in ticks.</summary>
    public long ReorderWindow(long smoothedRtt, bool inRecovery, int dupThreshold)
    {
        if (!ReorderingSeen && (inRecovery || Segments.SackedCount >= dupThreshold))
        {
            return 0;
        }

        long basis = MinRtt == long.MaxValue ? smoothedRtt : MinRtt;
        return Math.Min(ReorderWindowMultiplier * basis / 4, smoothedRtt);
    }

    /// <summary>
    /// RFC 8985 §6.2 step 5: flags lost every unSACKed segment sent before RACK.xmit_ts whose RACK.rtt +
    /// <paramref name="reorderWindow"/> has passed; returns how long until the next one would (the reordering timer),
    /// or 0 when none waits.
    /// </summary>
    public long DetectLoss(long reorderWindow, long now)
    {
        if (!_hasDelivery)
        {
            return 0;
        }

        var segments = Segments;
        long timeout = 0;
        for (int i = 0; i < segments.Count; i++)
        {
            ref SentSegment segment = ref segments[i];
            if (segment.Has(SentSegmentFlags.Sacked | SentSegmentFlags.Lost))
            {
                continue;
            }

            if (SentAfter(_xmitTime, _endSeq, segment.SentAt, segment.End))
            {
                long remaining = segment.SentAt + Rtt + reorderWindow - now;
                if (remaining <= 0)
                {
                    segments.MarkLost(i);
                }
                else
                {
                    timeout = Math.Max(timeout, remaining);
                }
            }
            else if (!segments.HasRetransmitted || segment.End > segments.RetransmittedHigh)
            {
                break; // this and every later segment were sent once, in order, after RACK.xmit_ts
            }
        }

        return timeout;
    }

    /// <summary>The peer may have reneged, or the connection restarted its sending: forget every segment.</summary>
    public void Clear() => Segments.Clear();

    private void Deliver(in SentSegment segment, bool cumulative, TcpTimestamps? timestamps, long now)
    {
        // Step 3: reordering — a segment sent once that arrives below the highest delivered one was overtaken.
        if (!_hasFack || segment.End > _fack)
        {
            _fack = segment.End;
            _hasFack = true;
        }
        else if (segment.End < _fack && !segment.Has(SentSegmentFlags.Retransmitted))
        {
            ReorderingSeen = true;
        }

        // Step 2: RACK.rtt and RACK.xmit_ts from the most recently sent delivered segment. For a retransmitted one it
        // is ambiguous which transmission arrived: a cumulative ACK whose echo predates the retransmission answers the
        // original, and an RTT below the minimum cannot be the retransmission's. (The echo is not checked for SACKed
        // segments: RFC 7323 echoes the segment that last advanced RCV.NXT, never an out-of-order one.)
        long rtt = now - segment.SentAt;
        if (segment.Has(SentSegmentFlags.Retransmitted))
        {
            if (cumulative && timestamps is TcpTimestamps ts
                && unchecked((int)(ts.EchoReply - TcpTimestamps.ClockAt(segment.SentAt, _timestampOffset))) < 0)
            {
                return;
            }

            if (rtt < MinRtt)
            {
                return;
            }
        }
        else
        {
            OnRttSample(rtt, now);
        }

        if (!_hasDelivery || SentAfter(segment.SentAt, segment.End, _xmitTime, _endSeq))
        {
            Rtt = rtt;
            _xmitTime = segment.SentAt;
            _endSeq = segment.End;
            _hasDelivery = true;
        }
    }
}
