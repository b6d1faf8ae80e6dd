using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// What to transmit next. One segment per <see cref="TryGetSegment"/> call, in priority order: a RST, our SYN or
/// SYN-ACK, a fast retransmission, new data (or a go-back-N resend after a timeout) and FIN within the send and
/// congestion windows, a zero-window or keepalive probe, and finally a pure ACK when one is owed. Also the receive
/// window we advertise (scaled, never shrinking, receiver SWS avoidance) and the per-segment options.
/// </summary>
internal sealed partial class TcpConnection
{
    private bool _resetPending;
    private SeqNum _resetSeq;
    private bool _resetWithAck;
    private bool _probePending;
    private SeqNum _receiveAdvertisedRight;
    private long _lastSendTime;

    /// <summary>
    /// Writes the next segment to send (TCP header with checksum 0, then payload) into <paramref name="destination"/>
    /// and returns true, or false when nothing is due. The caller prepends the IP header and fills the checksum
    /// (<see cref="TcpEndpoints.FillChecksum"/>). <paramref name="destination"/> should hold MTU − IP header bytes;
    /// a smaller one only makes segments smaller. Call until it returns false after every other call.
    /// </summary>
    public bool TryGetSegment(Span<byte> destination, out int length, long now)
    {
        length = 0;
        if (_resetPending)
        {
            _resetPending = false;
            var reset = BaseHeader() with
            {
                SequenceNumber = _resetSeq,
                AcknowledgmentNumber = _resetWithAck ? _receiveNext : default,
                Flags = _resetWithAck ? TcpFlags.Rst | TcpFlags.Ack : TcpFlags.Rst,
            };
            length = reset.Emit(destination);
            Counters.SegmentsSent++;
            return true;
        }

        switch (State)
        {
            case TcpState.Closed:
                return false;
            case TcpState.SynSent when _sendNext == _iss:
            case TcpState.SynReceived when _sendNext == _iss:
                length = EmitSyn(destination, now);
                return true;
            default:
                break;
        }

        if (CanSendData && TryEmitData(destination, out length, now))
        {
            return true;
        }

        if (_probePending && State != TcpState.SynSent)
        {
            // Zero-window and keepalive probe, Linux style: an old sequence number forces the peer to ACK.
            _probePending = false;
            length = EmitSegment(destination, _sendUnacknowledged - 1, TcpFlags.Ack, 0, 0, now);
            return true;
        }

        if (_ackNow > 0 && State != TcpState.SynSent)
        {
            // SEQ = SND.MAX, not the go-back-N pointer: after a timeout SND.NXT went back to SND.UNA, which may lie
            // below the peer's RCV.NXT (its ACKs were lost). The peer drops so old a segment unread, ACK field and all;
            // with both sides timed out, each dropped all of the other's ACKs until the retry limit closed both.
            length = EmitSegment(destination, _sendMax, TcpFlags.Ack, 0, 0, now);
            return true;
        }

        UpdatePersistTimer(now);
        return false;
    }

    private TcpHeader BaseHeader() => new()
    {
        SourcePort = Endpoints.LocalPort,
        DestinationPort = Endpoints.RemotePort,
    };

    private int EmitSyn(Span<byte> destination, long now)
    {
        bool retransmission = _sendMax != _iss;
        bool active = State == TcpState.SynSent;
        var header = BaseHeader() with
        {
            SequenceNumber = _iss,
            AcknowledgmentNumber = active ? default : _receiveNext,
            Flags = active ? TcpFlags.Syn : TcpFlags.Syn | TcpFlags.Ack,
            Window = (ushort)Math.Min(_receiveBuffer.Free, ushort.MaxValue), // never scaled in a SYN
            MaxSegmentSize = (ushort)_ourMss,
            WindowScale = (active ? _config.WindowScaling : _windowScaling) ? _ourWindowShift : null,
            SackPermitted = active ? _config.Sack : _sackEnabled,
            Timestamps = active
                ? (_config.Timestamps ? new TcpTimestamps(TimestampClock(now), 0) : null)
                : (_timestampsEnabled ? new TcpTimestamps(TimestampClock(now), _tsRecent) : null),
        };

        int length = header.Emit(destination);
        if (!active)
        {
            _receiveAdvertisedRight = _receiveNext + header.Window;
            AckSent();
        }

        Counters.SegmentsSent++;
        if (retransmission)
        {
            Counters.Retransmissions++;
            _synRetransmitted = true;
            _rttTiming = false;
        }
        else
        {
            _rttTiming = true;
            _rttSeq = _iss + 1;
            _rttStart = now;
        }

        _sendNext = _iss + 1;
        _sendMax = SeqNum.Max(_sendMax, _sendNext);
        _retransmitTimer.Start(now, _rtt.Rto);
        _lastSendTime = now;
        return length;
    }

    private bool TryEmitData(Span<byte> destination, out int length, long now)
    {
        length = 0;
        int optionsLength = DataOptionsLength();
        int maxPayload = Math.Min(_sendMssBase - optionsLength, destination.Length - TcpHeader.MinLength - optionsLength);
        if (maxPayload <= 0)
        {
            return false;
        }

        if (_fastRetransmitPending)
        {
            // RFC 6675 §5 step 4.3 / RFC 6582: the first retransmission goes regardless of cwnd.
            _fastRetransmitPending = false;
            if (_rackEnabled)
            {
                if (TryEmitLostSegment(destination, maxPayload, now, out length))
                {
                    return true;
                }
            }
            else if (_sendNext > _sendUnacknowledged)
            {
                length = EmitRetransmission(destination, maxPayload, now);
                return true;
            }
        }

        if (_lossProbePending && TryEmitLossProbe(destination, maxPayload, now, out length))
        {
            return true;
        }

        bool sackRecovery = _inRecovery && _sackRecovery;
        int flight = sackRecovery ? Pipe() : FlightSize;
        if (sackRecovery)
        {
            // RFC 6675 §5 step (C): send while cwnd − pipe ≥ 1 SMSS; NextSeg rule 1 first (a lost segment: marked by
            // RACK, or a hole below the IsLost boundary above HighRxt).
            if ((long)_congestion.Window - flight < EffectiveMss)
            {
                return false;
            }

            if (_rackEnabled
                ? TryEmitLostSegment(destination, maxPayload, now, out length)
                : TryEmitLostHole(destination, maxPayload, now, out length))
            {
                return true;
            }

            // NextSeg rule 2 is new data; only when there is none to send do rules 3 and 4 resend more (without RACK,
            // which covers those cases with its timer).
            if (!_rackEnabled && !HasNewDataToSend() && TryEmitRescue(destination, maxPayload, now, out length))
            {
                return true;
            }
        }

        // After a timeout we resend from SND.UNA; ranges the peer SACKed need not go again.
        while (_sendNext < _sendMax && _scoreboard.IsSacked(_sendNext, out SeqNum sackedEnd))
        {
            _sendNext = SeqNum.Min(sackedEnd, _sendMax);
        }

        int offset = _sendNext - _bufferSeq;
        int available = Math.Max(0, _sendBuffer.Count - offset);
        bool finWaiting = _finQueued && _sendNext <= FinSeq;
        if (available == 0 && !finWaiting)
        {
            return false;
        }

        if (flight == 0 && now - _lastSendTime > _rtt.Rto)
        {
            _congestion.OnIdleRestart(EffectiveMss); // RFC 5681 §4.1: restart from the initial window after idling
        }

        long windowLeft = Math.Max(0, (_sendUnacknowledged - _sendNext) + _sendWindow);
        int limitedTransmit = !_inRecovery && _duplicateAcks > 0 ? Math.Min(_duplicateAcks, 2) * EffectiveMss : 0;
        long congestionLeft = Math.Max(0, (long)_congestion.Window + limitedTransmit - flight);
        int len = (int)Math.Min(Math.Min(available, maxPayload), Math.Min(windowLeft, congestionLeft));
        if (_sendNext < _sendMax)
        {
            len = Math.Min(len, _scoreboard.NextSackedAfter(_sendNext, _sendMax + 1) - _sendNext); // stop at SACKed data
        }

        bool fin = finWaiting && offset + len == _sendBuffer.Count;

        bool retransmission = _sendNext < _sendMax;
        if (len < available && len < maxPayload)
        {
            // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): no small new segment while data is outstanding unless it
            // is at least half the largest window the peer offered. (A resent range between SACKed ones is small
            // by nature and goes anyway.)
            if (len == 0 || (!retransmission && flight > 0 && len < _maxSendWindow / 2))
            {
                return false;
            }
        }

        if (!_config.NoDelay && !retransmission && len < maxPayload && flight > 0 && !fin)
        {
            return false; // Nagle (RFC 896): wait for the ACK or a full segment
        }

        if (len == 0 && !fin)
        {
            return false;
        }

        if (retransmission)
        {
            CountRetransmission(_sendNext);
        }
        else if (!_rttTiming && !_timestampsEnabled && len > 0)
        {
            _rttTiming = true;
            _rttSeq = _sendNext + len;
            _rttStart = now;
        }

        var flags = TcpFlags.Ack | (fin ? TcpFlags.Fin : 0) | (offset + len == _sendBuffer.Count && len > 0 ? TcpFlags.Psh : 0);
        length = EmitSegment(destination, _sendNext, flags, offset, len, now);
        RecordTransmission(_sendNext, len + (fin ? 1 : 0), fin, now);
        _sendNext += len + (fin ? 1 : 0);
        _sendMax = SeqNum.Max(_sendMax, _sendNext);
        _retransmitTimer.StartIfStopped(now, _rtt.Rto);
        _lastSendTime = now;
        if (!retransmission)
        {
            ArmLossProbe(now);
        }

        return true;
    }

    /// <summary>RFC 6675 NextSeg rule 1: the first un-SACKed, lost range above HighRxt, at most one segment of it.</summary>
    private bool TryEmitLostHole(Span<byte> destination, int maxPayload, long now, out int length)
    {
        length = 0;
        SeqNum lostBoundary = _scoreboard.LostBoundary(_sendUnacknowledged, EffectiveMss, _config.DuplicateAckThreshold);
        SeqNum from = SeqNum.Max(_highRetransmitted, _sendUnacknowledged);
        if (!_scoreboard.TryGetHole(from, out SeqNum start, out SeqNum end) || start >= lostBoundary)
        {
            return false;
        }

        int len = Math.Min(SeqNum.Min(end, lostBoundary) - start, maxPayload);
        len = Math.Min(len, _sendBuffer.Count - (start - _bufferSeq));
        if (len <= 0)
        {
            return false;
        }

        CountRetransmission(start);
        if (_rttTiming && _rttSeq > start)
        {
            _rttTiming = false;
        }

        length = EmitSegment(destination, start, TcpFlags.Ack, start - _bufferSeq, len, now);
        RecordTransmission(start, len, fin: false, now);
        _highRetransmitted = start + len;
        _retransmitTimer.StartIfStopped(now, _rtt.Rto);
        _lastSendTime = now;
        return true;
    }

    // New data (or our FIN) waits and the peer's window has room for it.
    private bool HasNewDataToSend()
    {
        bool unsent = _sendBuffer.Count > _sendMax - _bufferSeq || (_finQueued && _sendMax <= FinSeq);
        return unsent && ((_sendUnacknowledged - _sendMax) + _sendWindow > 0 || _sendBuffer.Count <= _sendMax - _bufferSeq);
    }

    /// <summary>
    /// RFC 6675 NextSeg rule 3: the first unSACKed hole above HighRxt even though not yet deemed lost; rule 4 (rescue
    /// retransmission), once per recovery: a segment ending at the highest unSACKed byte below the recovery point, so
    /// a lost tail does not wait for the RTO. The rescue does not move HighRxt.
    /// </summary>
    private bool TryEmitRescue(Span<byte> destination, int maxPayload, long now, out int length)
    {
        length = 0;
        SeqNum from = SeqNum.Max(_highRetransmitted, _sendUnacknowledged);
        if (_scoreboard.TryGetHole(from, out SeqNum start, out SeqNum end))
        {
            int holeLength = Math.Min(Math.Min(end - start, maxPayload), _sendBuffer.Count - (start - _bufferSeq));
            if (holeLength > 0)
            {
                CountRetransmission(start);
                length = EmitSegment(destination, start, TcpFlags.Ack, start - _bufferSeq, holeLength, now);
                RecordTransmission(start, holeLength, fin: false, now);
                _highRetransmitted = start + holeLength;
                _retransmitTimer.StartIfStopped(now, _rtt.Rto);
                _lastSendTime = now;
                return true;
            }
        }

        if (_rescueSent)
        {
            return false;
        }

        SeqNum recoveryPoint = _recover + 1; // SND.MAX when recovery began
        SeqNum tailStart = _scoreboard.IsEmpty ? _sendUnacknowledged : SeqNum.Max(_scoreboard.HighestSacked, _sendUnacknowledged);
        if (tailStart >= recoveryPoint)
        {
            return false; // everything up to the recovery point is SACKed or retransmitted
        }

        bool fin = _finQueued && recoveryPoint > FinSeq;
        SeqNum dataEnd = fin ? FinSeq : recoveryPoint;
        int len = Math.Max(0, Math.Min(dataEnd - tailStart, maxPayload));
        SeqNum first = dataEnd - len;
        _rescueSent = true;
        CountRetransmission(first);
        length = EmitSegment(destination, first, TcpFlags.Ack | (fin ? TcpFlags.Fin : 0), first - _bufferSeq, len, now);
        RecordTransmission(first, len + (fin ? 1 : 0), fin, now);
        _retransmitTimer.StartIfStopped(now, _rtt.Rto);
        _lastSendTime = now;
        return true;
    }

    /// <summary>Resends the first unacknowledged segment (fast retransmit or after a partial ACK).</summary>
    private int EmitRetransmission(Span<byte> destination, int maxPayload, long now)
    {
        int offset = _sendUnacknowledged - _bufferSeq;
        int sentData = Math.Min(_sendBuffer.Count, _sendMax - _bufferSeq) - offset;
        int len = Math.Clamp(Math.Min(maxPayload, sentData), 0, maxPayload);
        if (!_scoreboard.IsEmpty)
        {
            len = Math.Min(len, _scoreboard.NextSackedAfter(_sendUnacknowledged, _sendUnacknowledged + len) - _sendUnacknowledged);
        }

        bool fin = _finQueued && _sendUnacknowledged + len == FinSeq && FinSeq < _sendMax;
        CountRetransmission(_sendUnacknowledged);
        if (_rttTiming && _rttSeq > _sendUnacknowledged)
        {
            _rttTiming = false; // Karn: the timed segment was resent
        }

        var flags = TcpFlags.Ack | (fin ? TcpFlags.Fin : 0);
        int length = EmitSegment(destination, _sendUnacknowledged, flags, offset, len, now);
        RecordTransmission(_sendUnacknowledged, len + (fin ? 1 : 0), fin, now);
        if (_sackRecovery)
        {
            _highRetransmitted = SeqNum.Max(_highRetransmitted, _sendUnacknowledged + len);
        }

        _retransmitTimer.Start(now, _rtt.Rto);
        _lastSendTime = now;
        return length;
    }

    /// <summary>Writes a segment with ACK, window and options, and payload from the send buffer.</summary>
    private int EmitSegment(Span<byte> destination, SeqNum seq, TcpFlags flags, int bufferOffset, int payloadLength, long now)
    {
        var header = BaseHeader() with
        {
            SequenceNumber = seq,
            AcknowledgmentNumber = _receiveNext,
            Flags = flags,
            Window = NextWindowField(),
            Timestamps = _timestampsEnabled ? new TcpTimestamps(TimestampClock(now), _tsRecent) : null,
            Sack = CurrentSackBlocks(),
        };

        int headerLength = header.Emit(destination);
        if (payloadLength > 0)
        {
            _sendBuffer.Peek(bufferOffset, destination.Slice(headerLength, payloadLength));
        }

        _dsackPending = false;
        AckSent();
        Counters.SegmentsSent++;
        return headerLength + payloadLength;
    }

    private void AckSent()
    {
        _lastAckSent = _receiveNext;
        _ackNow = Math.Max(0, _ackNow - 1);
        _unackedBytes = 0;
        _delayedAckDeadline = long.MaxValue;
    }

    // Options in a data or ACK segment: timestamps and SACK blocks (with their NOP padding).
    private int DataOptionsLength()
    {
        int length = _timestampsEnabled ? TcpHeader.TimestampsAlignedLength : 0;
        int blocks = CurrentSackBlocks().Count;
        return blocks == 0 ? length : length + 4 + (8 * blocks);
    }

    private SackBlocks CurrentSackBlocks()
    {
        if (!_sackEnabled || (_reassembler.IsEmpty && !_dsackPending))
        {
            return SackBlocks.Empty;
        }

        int max = _timestampsEnabled ? 3 : SackBlocks.MaxCount;
        var blocks = _dsackPending ? SackBlocks.Empty.Add(_dsack) : SackBlocks.Empty;
        return _reassembler.AppendSackBlocks(blocks, max);
    }

    /// <summary>
    /// The window field for the next non-SYN segment: free buffer space, scaled, but the right edge never moves left
    /// (RFC 9293 §3.8.6.2.2) and only moves right by at least min(buffer/2, MSS) (receiver SWS avoidance).
    /// </summary>
    private ushort NextWindowField()
    {
        SeqNum right = CandidateRightEdge();
        int window = Math.Max(0, right - _receiveNext);
        long field = (window + (1L << _ourWindowShift) - 1) >> _ourWindowShift; // round up: never below the held edge
        field = Math.Min(field, ushort.MaxValue);
        _receiveAdvertisedRight = SeqNum.Max(_receiveAdvertisedRight, _receiveNext + (int)(field << _ourWindowShift));
        return (ushort)field;
    }

    private SeqNum CandidateRightEdge()
    {
        long maxWindow = (long)ushort.MaxValue << _ourWindowShift;
        int free = (int)Math.Min(_receiveBuffer.Free, maxWindow);
        free = (free >> _ourWindowShift) << _ourWindowShift;
        SeqNum candidate = _receiveNext + free;
        int threshold = Math.Min(_receiveBuffer.Capacity / 2, _ourMss);
        if (candidate - _receiveAdvertisedRight < threshold)
        {
            candidate = SeqNum.Max(_receiveAdvertisedRight, _receiveNext);
        }

        return candidate;
    }

    /// <summary>After a read: is the window now worth announcing (it at least doubled, by at least the SWS threshold)?</summary>
    private bool ShouldSendWindowUpdate()
    {
        int oldWindow = Math.Max(0, _receiveAdvertisedRight - _receiveNext);
        int newWindow = Math.Max(0, CandidateRightEdge() - _receiveNext);
        return newWindow > oldWindow && newWindow >= 2 * oldWindow;
    }
}
