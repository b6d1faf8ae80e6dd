using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// RACK-TLP (RFC 8985), used when SACK is negotiated and <see cref="TcpConfig.RackTlp"/> is on: every data segment's
/// send time is recorded (<see cref="SentSegments"/>); ACKs feed <see cref="RackLossDetector"/>, which marks segments
/// lost by time instead of by three duplicate ACKs and arms the reordering timer; lost segments start RFC 6675 recovery
/// and are resent first. The Tail Loss Probe sends one segment (new data, else the last one again) 2·SRTT after the
/// last transmission when nothing else would elicit an ACK, so a lost tail is repaired by SACK recovery instead of an RTO.
/// </summary>
internal sealed partial class TcpConnection
{
    /// <summary>Segments RACK tracks at once: 4 MiB of full segments fit twice; smaller segments merge beyond it.</summary>
    private const int MaxSentSegments = 8192;

    /// <summary>Added to the PTO when one segment is in flight: the peer may delay its ACK that long (Linux's maximum delayed ACK, 200 ms).</summary>
    private static readonly long LossProbeMaxAckDelay = TimeSpan.FromMilliseconds(200).Ticks;

    /// <summary>Shortest PTO (Linux's 10 ms floor): on a LAN 2·SRTT is below timer precision and ACK batching.</summary>
    private static readonly long MinLossProbeTimeout = TimeSpan.FromMilliseconds(10).Ticks;

    /// <summary>PTO before any RTT sample (RFC 8985 §7.2: 1 s).</summary>
    private static readonly long InitialLossProbeTimeout = TimeSpan.FromSeconds(1).Ticks;

    private readonly RackLossDetector _rack;
    private bool _rackEnabled;
    private long _rackDeadline = long.MaxValue;
    private long _lossProbeDeadline = long.MaxValue;
    private bool _lossProbePending;
    private bool _lossProbeOutstanding; // TLP.end_seq is set
    private SeqNum _lossProbeEnd; // TLP.end_seq
    private bool _lossProbeRetransmitted; // TLP.is_retrans

    /// <summary>The RACK state and per-segment record.</summary>
    internal RackLossDetector Rack => _rack;

    /// <summary>True when RACK-TLP drives loss detection on this connection (SACK negotiated and enabled).</summary>
    internal bool RackEnabled => _rackEnabled;

    // In fast recovery, or in the go-back-N after a timeout, until SND.UNA passes the recovery point.
    private bool IsRecovering => _sendUnacknowledged <= _recover;

    /// <summary>Records a data (or FIN) transmission of <paramref name="sequenceLength"/> starting at <paramref name="start"/>; call before SND.MAX moves.</summary>
    private void RecordTransmission(SeqNum start, int sequenceLength, bool fin, long now)
    {
        if (!_rackEnabled || sequenceLength <= 0)
        {
            return;
        }

        SeqNum end = start + sequenceLength;
        if (start < _sendMax)
        {
            _rack.Segments.MarkRetransmitted(start, SeqNum.Min(end, _sendMax), now);
        }

        if (end > _sendMax)
        {
            _rack.Segments.AddNew(SeqNum.Max(start, _sendMax), end, now, fin);
        }
    }

    /// <summary>The RACK part of ACK processing (RFC 8985 §6.2 and §7.4), after SND.UNA moved.</summary>
    private void OnAckForRack(in TcpHeader header, int payloadLength, bool newAck, long now)
    {
        _rack.OnAck(_sendUnacknowledged, header.Sack, _sendMax, header.Timestamps, now);
        bool dsack = HasDsack(header);
        _rack.UpdateReorderWindow(_sendUnacknowledged, _sendNext, dsack);
        ProcessLossProbeAck(header, payloadLength, newAck, dsack, now);
        DetectLossAndArmTimer(now);
        if (_rack.Segments.LostCount > 0 && !_inRecovery && !IsRecovering)
        {
            EnterRecovery(now);
        }

        if (newAck)
        {
            ArmLossProbe(now);
        }
    }

    /// <summary>RFC 2883 §4: the first SACK block reports a duplicate when it lies below the cumulative ACK or inside the second block.</summary>
    internal static bool HasDsack(in TcpHeader header)
    {
        if (header.Sack.Count == 0)
        {
            return false;
        }

        var first = header.Sack[0];
        if (first.Right <= first.Left)
        {
            return false;
        }

        if (first.Right <= header.AcknowledgmentNumber)
        {
            return true;
        }

        if (header.Sack.Count < 2)
        {
            return false;
        }

        var second = header.Sack[1];
        return first.Left >= second.Left && first.Right <= second.Right;
    }

    private void DetectLossAndArmTimer(long now)
    {
        long reorderWindow = _rack.ReorderWindow(_rtt.SmoothedRtt, IsRecovering, _config.DuplicateAckThreshold);
        long timeout = _rack.DetectLoss(reorderWindow, now);
        _rackDeadline = timeout > 0 ? now + timeout : long.MaxValue;
    }

    /// <summary>The reordering timer fired: look again; newly lost segments may start recovery.</summary>
    private void OnRackTimeout(long now)
    {
        _rackDeadline = long.MaxValue;
        if (!_rackEnabled || _rack.Segments.IsEmpty)
        {
            return;
        }

        DetectLossAndArmTimer(now);
        if (_rack.Segments.LostCount > 0 && !_inRecovery && !IsRecovering)
        {
            EnterRecovery(now);
        }
    }

    /// <summary>
    /// RFC 8985 §7.2: after new data goes out or an ACK advances SND.UNA, and outside recovery with nothing SACKed and no
    /// probe outstanding, the PTO is 2·SRTT (+ the peer's delayed-ACK allowance when one segment is in flight), at most
    /// until the RTO.
    /// </summary>
    private void ArmLossProbe(long now)
    {
        _lossProbeDeadline = long.MaxValue;
        if (!_rackEnabled || !CanSendData || IsRecovering || _lossProbeOutstanding
            || _sendMax == _sendUnacknowledged || _rack.Segments.SackedCount > 0 || !_retransmitTimer.IsRunning)
        {
            return;
        }

        long timeout = _rtt.HasSample ? 2 * _rtt.SmoothedRtt : InitialLossProbeTimeout;
        if (_sendMax - _sendUnacknowledged <= EffectiveMss)
        {
            timeout += LossProbeMaxAckDelay;
        }

        timeout = Math.Max(timeout, MinLossProbeTimeout);
        _lossProbeDeadline = Math.Min(now + timeout, _retransmitTimer.Deadline);
    }

    /// <summary>The PTO fired: the next <see cref="TryGetSegment"/> sends the probe; the RTO restarts from now.</summary>
    private void OnLossProbeTimeout(long now)
    {
        _lossProbeDeadline = long.MaxValue;
        if (!_rackEnabled || !CanSendData || IsRecovering || _lossProbeOutstanding || _sendMax == _sendUnacknowledged)
        {
            return;
        }

        _lossProbePending = true;
        _retransmitTimer.Start(now, _rtt.Rto);
    }

    /// <summary>RFC 8985 §7.3: one segment regardless of cwnd — new data if the peer's window allows, else the last segment again.</summary>
    private bool TryEmitLossProbe(Span<byte> destination, int maxPayload, long now, out int length)
    {
        length = 0;
        _lossProbePending = false;
        var segments = _rack.Segments;
        if (_sendMax == _sendUnacknowledged || segments.IsEmpty)
        {
            return false;
        }

        int offset = _sendNext - _bufferSeq;
        int available = Math.Max(0, _sendBuffer.Count - offset);
        bool finWaiting = _finQueued && _sendNext <= FinSeq;
        long windowLeft = Math.Max(0, (_sendUnacknowledged - _sendNext) + _sendWindow);
        SeqNum start;
        int len;
        bool fin;
        if (_sendNext == _sendMax && ((available > 0 && windowLeft > 0) || (available == 0 && finWaiting)))
        {
            start = _sendNext;
            len = (int)Math.Min(Math.Min(available, maxPayload), windowLeft);
            fin = finWaiting && offset + len == _sendBuffer.Count;
            _lossProbeRetransmitted = false;
        }
        else
        {
            ref SentSegment last = ref segments[segments.Count - 1];
            bool finIncluded = _finQueued && last.End == FinSeq + 1;
            SeqNum dataEnd = finIncluded ? last.End - 1 : last.End;
            SeqNum first = SeqNum.Max(last.Start, _sendUnacknowledged);
            len = Math.Max(0, Math.Min(dataEnd - first, maxPayload));
            start = dataEnd - len;
            fin = finIncluded;
            _lossProbeRetransmitted = true;
            Counters.Retransmissions++;
            if (_rttTiming && _rttSeq > start)
            {
                _rttTiming = false; // Karn
            }
        }

        if (len == 0 && !fin)
        {
            return false;
        }

        int bufferOffset = start - _bufferSeq;
        var flags = TcpFlags.Ack | (fin ? TcpFlags.Fin : 0) | (len > 0 && bufferOffset + len == _sendBuffer.Count ? TcpFlags.Psh : 0);
        length = EmitSegment(destination, start, flags, bufferOffset, len, now);
        RecordTransmission(start, len + (fin ? 1 : 0), fin, now);
        if (!_lossProbeRetransmitted)
        {
            _sendNext += len + (fin ? 1 : 0);
            _sendMax = SeqNum.Max(_sendMax, _sendNext);
        }

        _lossProbeOutstanding = true;
        _lossProbeEnd = _sendMax;
        Counters.TailLossProbes++;
        _retransmitTimer.Start(now, _rtt.Rto);
        _lastSendTime = now;
        return true;
    }

    /// <summary>
    /// RFC 8985 §7.4: once the ACK reaches the probe, a probe of new data needs nothing; a retransmitted probe that was
    /// D-SACKed (or answered by a pure duplicate ACK) repaired nothing; an ACK beyond it means the probe repaired a
    /// loss, which costs a congestion window reduction like any loss.
    /// </summary>
    private void ProcessLossProbeAck(in TcpHeader header, int payloadLength, bool newAck, bool dsack, long now)
    {
        if (!_lossProbeOutstanding || _sendUnacknowledged < _lossProbeEnd)
        {
            return;
        }

        if (!_lossProbeRetransmitted || (dsack && header.Sack[0].Right <= _lossProbeEnd))
        {
            _lossProbeOutstanding = false;
        }
        else if (_sendUnacknowledged > _lossProbeEnd)
        {
            _lossProbeOutstanding = false;
            Counters.TailLossProbeRecoveries++;
            _congestion.OnLossRepaired(EffectiveMss, now);
        }
        else if (!newAck && header.Sack.Count == 0 && payloadLength == 0)
        {
            _lossProbeOutstanding = false;
        }
    }

    /// <summary>RFC 6675 NextSeg rule 1 with RACK: the first segment marked lost, at most one MSS of it.</summary>
    private bool TryEmitLostSegment(Span<byte> destination, int maxPayload, long now, out int length)
    {
        length = 0;
        var segments = _rack.Segments;
        if (segments.LostCount == 0)
        {
            return false;
        }

        int index = 0;
        while (index < segments.Count && !segments[index].Has(SentSegmentFlags.Lost))
        {
            index++;
        }

        if (index == segments.Count)
        {
            return false;
        }

        ref SentSegment lost = ref segments[index];
        bool finIncluded = _finQueued && lost.End == FinSeq + 1;
        SeqNum dataEnd = finIncluded ? lost.End - 1 : lost.End;
        SeqNum start = SeqNum.Max(lost.Start, _sendUnacknowledged);
        int len = Math.Max(0, Math.Min(Math.Min(dataEnd - start, maxPayload), _sendBuffer.Count - (start - _bufferSeq)));
        bool fin = finIncluded && start + len == dataEnd;
        if (len == 0 && !fin)
        {
            segments.MarkRetransmitted(lost.Start, lost.End, now); // nothing left to send of it
            return false;
        }

        CountRetransmission(start);
        if (_rttTiming && _rttSeq > start)
        {
            _rttTiming = false; // Karn
        }

        length = EmitSegment(destination, start, TcpFlags.Ack | (fin ? TcpFlags.Fin : 0), start - _bufferSeq, len, now);
        RecordTransmission(start, len + (fin ? 1 : 0), fin, now);
        _highRetransmitted = SeqNum.Max(_highRetransmitted, start + len);
        _retransmitTimer.StartIfStopped(now, _rtt.Rto);
        _lastSendTime = now;
        return true;
    }

    /// <summary>RFC 6675 pipe with RACK's marks: outstanding sequence space that is neither SACKed nor lost.</summary>
    private int RackPipe() =>
        Math.Max(0, (_sendMax - _sendUnacknowledged) - _rack.Segments.SackedBytes - _rack.Segments.LostBytes);

    /// <summary>Stops RACK's and TLP's timers and forgets an outstanding probe (a timeout or the connection's end).</summary>
    private void ResetLossDetectionTimers()
    {
        _rackDeadline = long.MaxValue;
        _lossProbeDeadline = long.MaxValue;
        _lossProbePending = false;
        _lossProbeOutstanding = false;
    }
}
