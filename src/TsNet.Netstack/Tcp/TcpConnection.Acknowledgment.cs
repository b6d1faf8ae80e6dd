using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// The send side's reaction to acknowledgments: SND.UNA and the send buffer, RTT samples (timestamps, or one timed
/// segment with Karn's rule), the retransmission timer, the send window, and loss recovery: with SACK, RFC 6675
/// (scoreboard, IsLost, pipe; see <c>TcpConnection.Output.cs</c> for NextSeg); without, NewReno (RFC 5681 §3.2 fast
/// retransmit, RFC 6582 partial ACKs). RFC 3042 limited transmit in both.
/// </summary>
internal sealed partial class TcpConnection
{
    private readonly SeqNum _iss;
    private SeqNum _sendUnacknowledged;
    private SeqNum _sendNext;
    private SeqNum _sendMax;
    private SeqNum _bufferSeq; // sequence number of send buffer offset 0
    private long _sendWindow; // bytes, scaled
    private long _maxSendWindow;
    private SeqNum _sendWl1;
    private SeqNum _sendWl2;
    private bool _finQueued;

    // RTT measurement without timestamps: one timed segment at a time (RFC 6298 §3, Karn).
    private bool _rttTiming;
    private SeqNum _rttSeq;
    private long _rttStart;
    private bool _synRetransmitted;
    private bool _ignoreEchoesBeforeTimeout; // Karn for timestamps: echoes older than _timeoutTsval are no RTT samples
    private uint _timeoutTsval;

    // Loss recovery.
    private int _duplicateAcks;
    private bool _inRecovery;
    private SeqNum _recover; // highest sequence number sent when recovery (or a timeout) began (RFC 6582)
    private bool _fastRetransmitPending;
    private bool _sackRecovery; // the current recovery follows RFC 6675
    private SeqNum _highRetransmitted; // HighRxt: end of the highest retransmitted range in this recovery
    private bool _rescueSent; // RescueRxt is set: this recovery's rescue retransmission went (RFC 6675 NextSeg rule 4)

    /// <summary>SND.UNA.</summary>
    internal SeqNum SendUnacknowledged => _sendUnacknowledged;

    /// <summary>SND.NXT.</summary>
    internal SeqNum SendNext => _sendNext;

    /// <summary>Send window in bytes (SND.WND, scaled).</summary>
    internal long SendWindow => _sendWindow;

    /// <summary>The congestion controller (cwnd, ssthresh).</summary>
    internal ICongestionControl Congestion => _congestion;

    /// <summary>True during NewReno fast recovery.</summary>
    internal bool InRecovery => _inRecovery;

    /// <summary>The RTT estimator.</summary>
    internal RttEstimator Rtt => _rtt;

    /// <summary>The retransmission timer.</summary>
    internal RetransmitTimer RetransmitTimer => _retransmitTimer;

    // Sequence number of our FIN (valid once queued: no bytes are written after it).
    private SeqNum FinSeq => _bufferSeq + _sendBuffer.Count;

    private bool IsFinAcknowledged => _finQueued && _sendUnacknowledged > FinSeq;

    // Bytes sent and neither acknowledged nor SACKed, as the sender sees them now (after a timeout, only what was resent).
    private int FlightSize => (_sendNext - _sendUnacknowledged) - _scoreboard.SackedBetween(_sendUnacknowledged, _sendNext);

    /// <summary>The SACK scoreboard.</summary>
    internal SackScoreboard Scoreboard => _scoreboard;

    /// <summary>
    /// RFC 6675 pipe: outstanding bytes that are neither SACKed nor considered lost, plus retransmitted bytes (below
    /// HighRxt) that are still unacknowledged.
    /// </summary>
    internal int Pipe()
    {
        if (_rackEnabled)
        {
            return RackPipe();
        }

        int pipe = (_sendMax - _sendUnacknowledged) - _scoreboard.SackedBytes;
        if (_scoreboard.IsEmpty)
        {
            return pipe;
        }

        SeqNum lostBoundary = _scoreboard.LostBoundary(_sendUnacknowledged, EffectiveMss, _config.DuplicateAckThreshold);
        SeqNum from = _sendUnacknowledged;
        while (_scoreboard.TryGetHole(from, out SeqNum start, out SeqNum end))
        {
            pipe -= Math.Max(0, SeqNum.Min(end, lostBoundary) - start);
            pipe += Math.Max(0, SeqNum.Min(end, _highRetransmitted) - start);
            from = end;
        }

        return Math.Max(pipe, 0);
    }

    /// <summary>Our SYN was acknowledged by <paramref name="header"/> (SYN-SENT or SYN-RECEIVED).</summary>
    private void AcknowledgeSyn(in TcpHeader header, long now)
    {
        SeqNum ack = header.AcknowledgmentNumber;
        _sendUnacknowledged = ack;
        if (_sendNext < ack)
        {
            _sendNext = ack;
        }

        TakeRttSample(header, now);
        _rttTiming = false;
    }

    /// <summary>Fifth step of SEGMENT ARRIVES for synchronized states; false when the segment must be dropped.</summary>
    private bool ProcessAcknowledgment(in TcpHeader header, int payloadLength, long now)
    {
        SeqNum ack = header.AcknowledgmentNumber;

        // RFC 5961 §5.2: an ACK for data never sent gets an ACK and is dropped; one older than the largest
        // window ever offered is dropped (an attacker's blind guess).
        if (ack > _sendMax)
        {
            Counters.BadAckDrops++;
            OweAck();
            return false;
        }

        if (ack < _sendUnacknowledged - (int)Math.Min(_maxSendWindow, int.MaxValue))
        {
            Counters.BadAckDrops++;
            OweAck();
            return false;
        }

        bool newAck = ack > _sendUnacknowledged;
        bool duplicate = !newAck && ack == _sendUnacknowledged && IsDuplicateAck(header, payloadLength);
        if (newAck)
        {
            OnNewAck(header, now);
        }

        if (_sackEnabled && header.Sack.Count > 0)
        {
            _scoreboard.Update(header.Sack, _sendUnacknowledged, _sendMax);
            if (HasDsack(header))
            {
                Counters.DsacksReceived++;
                OnDsackForUndo(header.Sack[0]);
            }
        }

        if (_rackEnabled)
        {
            OnAckForRack(header, payloadLength, newAck, now);
        }

        if (duplicate)
        {
            OnDuplicateAck(now);
        }

        // RFC 6675 §5: enough SACKed above SND.UNA means the first segment is lost, even before three duplicates.
        if (!_rackEnabled && !_inRecovery && _sackEnabled && !_scoreboard.IsEmpty && _sendUnacknowledged > _recover
            && _scoreboard.LostBoundary(_sendUnacknowledged, EffectiveMss, _config.DuplicateAckThreshold) > _sendUnacknowledged)
        {
            EnterRecovery(now);
        }

        if (ack >= _sendUnacknowledged)
        {
            UpdateSendWindow(header);
        }

        switch (State)
        {
            case TcpState.FinWait1 when IsFinAcknowledged:
                State = TcpState.FinWait2;
                if (_closedByApplication)
                {
                    _closeDeadline = now + _config.FinWait2Timeout.Ticks;
                }

                break;
            case TcpState.Closing when IsFinAcknowledged:
                EnterTimeWait(now);
                break;
            case TcpState.LastAck when IsFinAcknowledged:
                EnterClosed(TcpError.None);
                return false;
            default:
                break;
        }

        return true;
    }

    private void OnNewAck(in TcpHeader header, long now)
    {
        SeqNum ack = header.AcknowledgmentNumber;
        int acked = ack - _sendUnacknowledged;
        int flightBeforeAck = Math.Max(FlightSize, acked);
        bool wasRecovering = IsRecovering;
        if (_sendNext < ack)
        {
            _sendNext = ack; // after a timeout we went back; the originals arrived after all
        }

        int dataAcked = Math.Clamp(ack - _bufferSeq, 0, _sendBuffer.Count);
        if (dataAcked > 0)
        {
            _sendBuffer.Consume(dataAcked);
            _bufferSeq += dataAcked;
            _events |= TcpEvents.Writable;
        }

        _sendUnacknowledged = ack;
        _scoreboard.Advance(ack);
        if (wasRecovering && !IsRecovering && _rackEnabled)
        {
            _rack.OnRecoveryExit();
        }

        TakeRttSample(header, now);
        _retransmitTimer.ResetRetries();
        if (_sendUnacknowledged == _sendMax)
        {
            _retransmitTimer.Stop();
        }
        else
        {
            _retransmitTimer.Start(now, _rtt.Rto);
        }

        int mss = EffectiveMss;
        int flightBefore = flightBeforeAck;
        if (_inRecovery)
        {
            if (ack > _recover)
            {
                _inRecovery = false;
                _sackRecovery = false;
                _congestion.OnExitRecovery(_sendMax - _sendUnacknowledged, mss);
            }
            else if (_sackRecovery)
            {
                _highRetransmitted = SeqNum.Max(_highRetransmitted, ack); // NextSeg picks the next lost hole
            }
            else
            {
                // RFC 6582 §3.2 step 3: a partial ACK; the next hole is lost too.
                _congestion.OnPartialAck(acked, mss);
                _fastRetransmitPending = true;
            }
        }
        else if (IsCongestionWindowLimited(flightBefore))
        {
            _congestion.OnAck(acked, mss, now, _rtt.SmoothedRtt);
        }

        _duplicateAcks = 0;
        AutotuneSend();
    }

    /// <summary>
    /// Grow cwnd only while it limits the sender (RFC 7661's idea, Linux tcp_is_cwnd_limited): an application-limited
    /// flow would otherwise inflate cwnd without ever testing the path. In slow start half a window in flight counts.
    /// </summary>
    private bool IsCongestionWindowLimited(int flightBeforeAck)
    {
        int cwnd = _congestion.Window;
        return cwnd < _congestion.SlowStartThreshold
            ? 2L * flightBeforeAck >= cwnd
            : (long)flightBeforeAck + EffectiveMss >= cwnd;
    }

    // RFC 5681 §2: same ACK, no data, no SYN/FIN, same window, and data outstanding.
    private bool IsDuplicateAck(in TcpHeader header, int payloadLength) =>
        payloadLength == 0
        && !header.Has(TcpFlags.Syn)
        && !header.Has(TcpFlags.Fin)
        && ((long)header.Window << _peerWindowShift) == _sendWindow
        && _sendMax > _sendUnacknowledged;

    private void OnDuplicateAck(long now)
    {
        _duplicateAcks++;
        if (_inRecovery)
        {
            if (!_sackRecovery)
            {
                _congestion.OnDuplicateAckInRecovery(EffectiveMss);
            }

            return;
        }

        // RFC 6582 §3.2 step 2: only start recovery when the ACK covers more than the last recovery point.
        if (_duplicateAcks == _config.DuplicateAckThreshold && _sendUnacknowledged > _recover)
        {
            if (!_rackEnabled)
            {
                EnterRecovery(now);
            }
            else if (_rack.Segments.SackedCount == 0 && !_rack.Segments.IsEmpty)
            {
                _rack.Segments.MarkLost(0); // duplicate ACKs without SACK blocks: RACK cannot see; fall back to DupThresh
                EnterRecovery(now);
            }
        }
    }

    /// <summary>Fast retransmit: enter recovery (RFC 6675 when SACK is on, else NewReno) and resend SND.UNA's segment.</summary>
    private void EnterRecovery(long now)
    {
        int mss = EffectiveMss;
        ArmUndo();
        _inRecovery = true;
        _recover = _sendMax - 1;
        Counters.FastRetransmits++;
        _sackRecovery = _sackEnabled;
        if (_sackRecovery)
        {
            _highRetransmitted = _sendUnacknowledged;
            _rescueSent = false;
            _congestion.OnEnterSackRecovery(_sendMax - _sendUnacknowledged, mss, now);
        }
        else
        {
            _congestion.OnEnterRecovery(_sendMax - _sendUnacknowledged, mss, now);
        }

        _fastRetransmitPending = true;
        _rttTiming = false; // Karn: the timed segment may be the one resent
    }

    private void UpdateSendWindow(in TcpHeader header)
    {
        SeqNum seq = header.SequenceNumber;
        SeqNum ack = header.AcknowledgmentNumber;
        if (_sendWl1 < seq || (_sendWl1 == seq && _sendWl2 <= ack))
        {
            _sendWindow = (long)header.Window << _peerWindowShift;
            _maxSendWindow = Math.Max(_maxSendWindow, _sendWindow);
            _sendWl1 = seq;
            _sendWl2 = ack;
            if (_sendWindow > 0)
            {
                _persistDeadline = long.MaxValue;
                _persistBackoff = 0;
            }
        }
    }

    private void TakeRttSample(in TcpHeader header, long now)
    {
        long sample = -1;
        if (_timestampsEnabled && header.Timestamps is TcpTimestamps ts)
        {
            // RFC 7323 §4.1: RTT = our clock now − the echoed value (valid for retransmitted data too). An echo of
            // zero carries no information (a peer that has not seen our clock yet).
            // Nor does the echo of a TSval sent before our last timeout: the peer had the original (only its ACK was
            // lost) and echoes the original's TSval when it answers the resend, so the time includes our whole wait
            // (samples of RTO·2^k fed back into the RTO: SRTT went from 20 ms to seconds on a lossy link).
            long elapsedMs = unchecked((int)(TimestampClock(now) - ts.EchoReply));
            bool echoBeforeTimeout = _ignoreEchoesBeforeTimeout && unchecked((int)(ts.EchoReply - _timeoutTsval)) < 0;
            if (ts.EchoReply != 0 && elapsedMs >= 0 && !echoBeforeTimeout)
            {
                sample = elapsedMs * TimeSpan.TicksPerMillisecond;
                _ignoreEchoesBeforeTimeout = false; // echoes only grow from here
            }

            _rttTiming = false;
        }
        else if (_rttTiming && header.AcknowledgmentNumber >= _rttSeq)
        {
            sample = now - _rttStart;
            _rttTiming = false;
        }

        if (sample >= 0 && sample <= _config.MaxRto.Ticks)
        {
            _rtt.AddSample(sample);
            _rack.OnRttSample(sample, now);
            _retransmitTimer.ResetBackoff();
        }
    }

    private uint TimestampClock(long now) => TcpTimestamps.ClockAt(now, _timestampOffset);
}
