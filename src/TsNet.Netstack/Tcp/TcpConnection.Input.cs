using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>SEGMENT ARRIVES (RFC 9293 §3.10.7) with RFC 5961 and RFC 7323 checks, and the receive side.</summary>
internal sealed partial class TcpConnection
{
    /// <summary>TS.Recent is invalidated after this much idleness (RFC 7323 §5.5: 24 days).</summary>
    private static readonly long TsRecentLifetime = TimeSpan.FromDays(24).Ticks;

    /// <summary>Least time between ACKs for bare out-of-window ACK segments (Linux tcp_invalid_ratelimit = 500 ms).</summary>
    private static readonly long OutOfWindowAckInterval = TimeSpan.FromMilliseconds(500).Ticks;

    /// <summary>Immediate ACKs owed are capped: enough for one per out-of-order segment of a burst.</summary>
    private const int MaxOwedAcks = 8;

    private SeqNum _irs;
    private SeqNum _receiveNext;
    private bool _finReceived;
    private bool _pendingFin;
    private SeqNum _pendingFinSeq;
    private int _unackedBytes;
    private int _largestSegmentSeen;
    private long _lastReceiveTime;

    // Negotiated options.
    private int _sendMssBase;
    private byte _ourWindowShift;
    private byte _peerWindowShift;
    private bool _windowScaling;
    private bool _sackEnabled;
    private bool _timestampsEnabled;
    private uint _tsRecent;
    private long _tsRecentTime;
    private SeqNum _lastAckSent;

    // Acknowledgments owed: count of immediate ACKs, and a D-SACK block to report once (RFC 2883).
    private int _ackNow;
    private bool _dsackPending;
    private SackBlock _dsack;

    private long _challengeWindowStart = long.MinValue / 2;
    private long _lastOutOfWindowAck = long.MinValue / 2;
    private int _challengeAcksInWindow;
    private bool _closedByApplication;

    /// <summary>RCV.NXT.</summary>
    internal SeqNum ReceiveNext => _receiveNext;

    /// <summary>Processes one segment addressed to this connection (checksum already verified by the integration).</summary>
    public void OnSegment(in TcpHeader header, ReadOnlySpan<byte> payload, long now)
    {
        Counters.SegmentsReceived++;
        switch (State)
        {
            case TcpState.Closed:
                return; // the integration answers segments for unknown connections (TcpResets)
            case TcpState.SynSent:
                OnSegmentInSynSent(header, now);
                break;
            default:
                OnSegmentSynchronized(header, payload, now);
                break;
        }

        UpdatePersistTimer(now);
    }

    private void OnSegmentInSynSent(in TcpHeader header, long now)
    {
        bool ackAcceptable = false;
        if (header.Has(TcpFlags.Ack))
        {
            SeqNum ack = header.AcknowledgmentNumber;
            if (ack <= _iss || ack > _sendMax)
            {
                if (!header.Has(TcpFlags.Rst))
                {
                    QueueReset(ack, withAck: false);
                }

                Counters.BadAckDrops++;
                return;
            }

            ackAcceptable = true;
        }

        if (header.Has(TcpFlags.Rst))
        {
            if (ackAcceptable)
            {
                EnterClosed(TcpError.Refused);
            }

            return;
        }

        if (!header.Has(TcpFlags.Syn))
        {
            return;
        }

        Synchronize(header, now);
        _lastReceiveTime = now;
        _sendWindow = header.Window; // never scaled in a SYN (RFC 7323 §2.2)
        _maxSendWindow = header.Window;
        _sendWl1 = header.SequenceNumber;
        _sendWl2 = header.AcknowledgmentNumber;
        if (ackAcceptable)
        {
            AcknowledgeSyn(header, now);
            EnterEstablished(now);
            AckNow();
            return;
        }

        // Simultaneous open (RFC 9293 Figure 8): answer with SYN-ACK for our ISS.
        State = TcpState.SynReceived;
        _sendNext = _iss;
        _retransmitTimer.Stop();
    }

    /// <summary>Takes IRS and the peer's options from its SYN and settles what both sides use.</summary>
    private void Synchronize(in TcpHeader syn, long now)
    {
        _irs = syn.SequenceNumber;
        _receiveNext = syn.SequenceNumber + 1;
        _lastAckSent = _receiveNext;
        _receiveAdvertisedRight = _receiveNext;

        int peerMss = syn.MaxSegmentSize ?? (Endpoints.IsIpv6 ? DefaultIpv6Mss : DefaultIpv4Mss);
        _sendMssBase = Math.Clamp(Math.Min(peerMss, _ourMss), MinPeerMss, _ourMss);

        if (_config.WindowScaling && syn.WindowScale is byte shift)
        {
            _peerWindowShift = Math.Min(shift, TcpHeader.MaxWindowScale);
            _windowScaling = true;
        }
        else
        {
            _peerWindowShift = 0;
            _ourWindowShift = 0;
        }

        _sackEnabled = _config.Sack && syn.SackPermitted;
        _rackEnabled = _sackEnabled && _config.RackTlp;
        if (_config.Timestamps && syn.Timestamps is TcpTimestamps ts)
        {
            _timestampsEnabled = true;
            _tsRecent = ts.Value;
            _tsRecentTime = now;
        }
    }

    private void OnSegmentSynchronized(in TcpHeader header, ReadOnlySpan<byte> payload, long now)
    {
        SeqNum seq = header.SequenceNumber;
        bool rst = header.Has(TcpFlags.Rst);
        bool syn = header.Has(TcpFlags.Syn);
        bool fin = header.Has(TcpFlags.Fin);

        // RFC 7323 §5.3 PAWS, before the sequence check: an older timestamp means an old duplicate.
        if (_timestampsEnabled && !rst && header.Timestamps is TcpTimestamps ts && unchecked((int)(ts.Value - _tsRecent)) < 0)
        {
            if (now - _tsRecentTime <= TsRecentLifetime)
            {
                Counters.PawsDrops++;
                OweAck();
                return;
            }

            _tsRecent = ts.Value; // TS.Recent went stale: accept and resynchronise
            _tsRecentTime = now;
        }

        // Simultaneous open: the peer's SYN-ACK repeats its SYN; take it as the ACK of ours (as Linux does).
        if (State == TcpState.SynReceived && !_passive && syn && header.Has(TcpFlags.Ack) && !rst
            && seq + 1 == _receiveNext && header.AcknowledgmentNumber == _sendNext)
        {
            OnSegmentSynchronized(header with { SequenceNumber = seq + 1, Flags = header.Flags & ~TcpFlags.Syn }, payload, now);
            return;
        }

        // First: sequence acceptability (RFC 9293 §3.10.7.4, table in tcp-essentials §14).
        int segmentLength = header.SegmentLength(payload.Length);
        int window = _receiveBuffer.Free;
        if (!IsAcceptable(seq, segmentLength, window))
        {
            Counters.UnacceptableSegments++;
            if (State == TcpState.SynReceived && syn && !header.Has(TcpFlags.Ack) && seq == _irs)
            {
                _sendNext = _iss; // a retransmitted SYN: our SYN-ACK was lost, send it again
                return;
            }

            if (!rst)
            {
                if (State == TcpState.TimeWait && fin)
                {
                    _closeDeadline = now + _config.TimeWaitTimeout.Ticks; // re-ACK the FIN and restart 2·MSL
                }

                if (seq + payload.Length <= _receiveNext)
                {
                    NoteDuplicate(seq, payload.Length); // wholly old data: report it as a D-SACK block
                }

                // A bare out-of-window ACK is answered at most every 500 ms (Linux tcp_invalid_ratelimit), so two
                // confused peers cannot ping-pong ACKs at line rate; segments with data or FIN are always answered.
                if (segmentLength > 0)
                {
                    OweAck();
                }
                else if (now - _lastOutOfWindowAck >= OutOfWindowAckInterval)
                {
                    _lastOutOfWindowAck = now;
                    OweAck();
                }
            }

            return;
        }

        _lastReceiveTime = now;
        _keepAliveProbesSent = 0;
        _persistProbesUnanswered = 0;

        // Trim to the window: drop what we already have (an old SYN counts) and what lies beyond.
        SeqNum dataSeq = seq;
        if (syn && seq < _receiveNext)
        {
            syn = false;
            dataSeq += 1;
        }
        else if (syn)
        {
            dataSeq += 1;
        }

        if (dataSeq < _receiveNext)
        {
            int duplicate = Math.Min(_receiveNext - dataSeq, payload.Length);
            NoteDuplicate(dataSeq, duplicate);
            payload = payload[duplicate..];
            dataSeq += duplicate;
        }

        int room = Math.Max(0, window - (dataSeq - _receiveNext));
        if (payload.Length > room)
        {
            payload = payload[..room];
            fin = false;
            AckNow(); // the peer overran the window: tell it at once where the window ends
        }

        // RFC 7323 §4.3: remember the peer's clock for echoing.
        if (_timestampsEnabled && header.Timestamps is TcpTimestamps seen
            && unchecked((int)(seen.Value - _tsRecent)) >= 0 && seq <= _lastAckSent)
        {
            _tsRecent = seen.Value;
            _tsRecentTime = now;
        }

        // Second: RST (RFC 5961 §3.2): only an exact match resets; in-window otherwise gets a challenge ACK.
        if (rst)
        {
            if (seq == _receiveNext)
            {
                OnAcceptableReset();
            }
            else
            {
                SendChallengeAck(now);
            }

            return;
        }

        // Fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK, drop.
        if (syn)
        {
            SendChallengeAck(now);
            return;
        }

        // Fifth: ACK.
        if (!header.Has(TcpFlags.Ack))
        {
            return;
        }

        if (State == TcpState.SynReceived)
        {
            SeqNum ack = header.AcknowledgmentNumber;
            if (ack <= _sendUnacknowledged || ack > _sendMax)
            {
                Counters.BadAckDrops++;
                QueueReset(ack, withAck: false);
                return;
            }

            AcknowledgeSyn(header, now);
            EnterEstablished(now);
            UpdateSendWindow(header);
        }

        if (!ProcessAcknowledgment(header, payload.Length, now))
        {
            return;
        }

        if (State == TcpState.Closed)
        {
            return;
        }

        // Seventh: segment text.
        if (!payload.IsEmpty && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
        {
            if (_closedByApplication)
            {
                Abort(); // nobody will read it (Linux: data after close ⇒ reset)
                return;
            }

            ReceiveData(dataSeq, payload, now);
        }

        // Eighth: FIN.
        if (fin && State is not (TcpState.Closed or TcpState.SynReceived))
        {
            SeqNum finSeq = dataSeq + payload.Length;
            if (_finReceived)
            {
                AckNow(); // a second FIN cannot move RCV.NXT again
            }
            else if (finSeq == _receiveNext)
            {
                ReceiveFin(now);
            }
            else if (finSeq > _receiveNext)
            {
                _pendingFin = true; // out of order: take it when the bytes before it are in
                _pendingFinSeq = finSeq;
                if (payload.IsEmpty)
                {
                    OweAck();
                }
            }
        }
    }

    private bool IsAcceptable(SeqNum seq, int length, int window)
    {
        if (length == 0)
        {
            return window == 0 ? seq == _receiveNext : seq.IsInRange(_receiveNext, _receiveNext + window);
        }

        if (window == 0)
        {
            // RFC 9293 §3.10.7.4: with a zero window no data is acceptable, "but special allowance should be made to
            // accept valid ACKs, URGs, and RSTs": a segment at RCV.NXT goes on (its text is trimmed away).
            return seq == _receiveNext;
        }

        SeqNum last = seq + (length - 1);
        return seq.IsInRange(_receiveNext, _receiveNext + window) || last.IsInRange(_receiveNext, _receiveNext + window);
    }

    private void OnAcceptableReset()
    {
        switch (State)
        {
            case TcpState.SynReceived:
                EnterClosed(_passive ? TcpError.Reset : TcpError.Refused);
                break;
            case TcpState.Established:
            case TcpState.FinWait1:
            case TcpState.FinWait2:
            case TcpState.CloseWait:
                EnterClosed(TcpError.Reset);
                break;
            default:
                EnterClosed(TcpError.None); // CLOSING, LAST-ACK, TIME-WAIT: the close was under way anyway
                break;
        }
    }

    private void SendChallengeAck(long now)
    {
        if (now - _challengeWindowStart >= TimeSpan.TicksPerSecond)
        {
            _challengeWindowStart = now;
            _challengeAcksInWindow = 0;
        }

        if (_challengeAcksInWindow < _config.MaxChallengeAcksPerSecond)
        {
            _challengeAcksInWindow++;
            Counters.ChallengeAcks++;
            OweAck();
        }
    }

    /// <summary>One more immediate ACK: each out-of-order or unacceptable segment gets its own (duplicate ACKs are a signal).</summary>
    private void OweAck() => _ackNow = Math.Min(_ackNow + 1, MaxOwedAcks);

    /// <summary>At least one immediate ACK.</summary>
    private void AckNow() => _ackNow = Math.Max(_ackNow, 1);

    /// <summary>Counts a duplicate and remembers it for a D-SACK block (RFC 2883) when SACK is on.</summary>
    private void NoteDuplicate(SeqNum seq, int length)
    {
        if (length <= 0)
        {
            return;
        }

        Counters.DuplicateSegments++;
        if (!_sackEnabled)
        {
            return;
        }

        SeqNum end = seq + length;
        if (_dsackPending && seq <= _dsack.Right && end >= _dsack.Left)
        {
            // Duplicates that touch the one not yet reported share its block (Linux tcp_dsack_extend), so a batch of
            // duplicates delivered before an ACK goes out still tells the sender how much was duplicated.
            _dsack = new SackBlock(SeqNum.Min(seq, _dsack.Left), SeqNum.Max(end, _dsack.Right));
        }
        else
        {
            _dsack = new SackBlock(seq, end);
            _dsackPending = true;
        }
    }

    private void ReceiveData(SeqNum dataSeq, ReadOnlySpan<byte> payload, long now)
    {
        int offset = dataSeq - _receiveNext;
        _largestSegmentSeen = Math.Max(_largestSegmentSeen, payload.Length);
        if (offset > 0)
        {
            if (_reassembler.Add(dataSeq, dataSeq + payload.Length))
            {
                _receiveBuffer.WriteAt(offset, payload);
                Counters.OutOfOrderSegments++;
            }
            else
            {
                Counters.ReassemblyDrops++;
            }

            OweAck(); // immediate (duplicate) ACK with SACK blocks for out-of-order data (RFC 5681 §4.2)
            return;
        }

        _receiveBuffer.WriteAt(0, payload);
        bool filledHole = !_reassembler.IsEmpty;
        SeqNum next = _reassembler.Advance(_receiveNext + payload.Length);
        _receiveBuffer.Commit(next - _receiveNext);
        AutotuneReceive(next - _receiveNext, now);
        _receiveNext = next;
        _events |= TcpEvents.Readable;

        _unackedBytes += payload.Length;
        if (filledHole || _unackedBytes >= 2 * _largestSegmentSeen)
        {
            AckNow(); // a hole filled, or a second full segment: ACK now (RFC 9293 §3.8.6.3, RFC 5681 §4.2)
        }
        else if (_delayedAckDeadline == long.MaxValue)
        {
            _delayedAckDeadline = now + _config.DelayedAckTimeout.Ticks;
        }

        if (_pendingFin && _pendingFinSeq == _receiveNext)
        {
            ReceiveFin(now);
        }
    }

    private void ReceiveFin(long now)
    {
        _pendingFin = false;
        _finReceived = true;
        _receiveNext += 1;
        _reassembler.Clear();
        ReleaseIdleReceiveStorage();
        AckNow();
        _events |= TcpEvents.ReadClosed | TcpEvents.Readable;
        switch (State)
        {
            case TcpState.Established:
                State = TcpState.CloseWait;
                break;
            case TcpState.FinWait1:
                if (IsFinAcknowledged)
                {
                    EnterTimeWait(now);
                }
                else
                {
                    State = TcpState.Closing;
                }

                break;
            case TcpState.FinWait2:
                EnterTimeWait(now);
                break;
            default:
                break;
        }
    }
}
