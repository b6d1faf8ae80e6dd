namespace TsNet.Netstack.Tcp;

/// <summary>
/// Timers, all driven by <see cref="Poll"/>: retransmission (RFC 6298; SYN and data retry limits), RACK's reorder
/// timer and the tail loss probe (see <c>TcpConnection.LossDetection.cs</c>), delayed ACK, zero-window persist probes,
/// keepalive, TIME-WAIT and the FIN-WAIT-2 limit after <see cref="Close"/>.
/// </summary>
internal sealed partial class TcpConnection
{
    private long _delayedAckDeadline = long.MaxValue;
    private long _persistDeadline = long.MaxValue;
    private int _persistBackoff;
    private int _persistProbesUnanswered;
    private int _keepAliveProbesSent;
    private long _lastKeepAliveProbeTime;
    private long _closeDeadline = long.MaxValue; // TIME-WAIT expiry or the FIN-WAIT-2 limit

    /// <summary>When <see cref="Poll"/> must next run (ticks); <see cref="long.MaxValue"/> when nothing is timed.</summary>
    public long NextDeadline
    {
        get
        {
            long deadline = Math.Min(_retransmitTimer.Deadline, _delayedAckDeadline);
            deadline = Math.Min(deadline, _persistDeadline);
            deadline = Math.Min(deadline, _closeDeadline);
            deadline = Math.Min(deadline, Math.Min(_rackDeadline, _lossProbeDeadline));
            return Math.Min(deadline, KeepAliveDeadline);
        }
    }

    // Keepalive (RFC 1122 §4.2.3.6): only on an idle, open connection with nothing outstanding.
    private long KeepAliveDeadline =>
        _config.KeepAlive
        && State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait2
        && _sendMax == _sendUnacknowledged && _sendBuffer.Count == 0
            ? (_keepAliveProbesSent == 0
                ? _lastReceiveTime + _config.KeepAliveIdle.Ticks
                : _lastKeepAliveProbeTime + _config.KeepAliveInterval.Ticks)
            : long.MaxValue;

    /// <summary>Runs every timer due at <paramref name="now"/>; then drain <see cref="TryGetSegment"/>.</summary>
    public void Poll(long now)
    {
        if (State == TcpState.Closed)
        {
            return;
        }

        if (now >= _closeDeadline)
        {
            _closeDeadline = long.MaxValue;
            EnterClosed(TcpError.None); // TIME-WAIT over, or FIN-WAIT-2 given up after the application closed
            return;
        }

        if (now >= _lossProbeDeadline)
        {
            OnLossProbeTimeout(now); // before the RTO: the PTO never lies beyond it and restarts it
        }

        if (now >= _rackDeadline)
        {
            OnRackTimeout(now);
        }

        if (_retransmitTimer.IsExpired(now))
        {
            OnRetransmitTimeout(now);
            if (State == TcpState.Closed)
            {
                return;
            }
        }

        if (now >= _delayedAckDeadline)
        {
            _delayedAckDeadline = long.MaxValue;
            AckNow();
        }

        UpdatePersistTimer(now);
        if (now >= _persistDeadline)
        {
            OnPersistTimeout(now);
            if (State == TcpState.Closed)
            {
                return;
            }
        }

        if (now >= KeepAliveDeadline)
        {
            if (_keepAliveProbesSent >= _config.KeepAliveCount)
            {
                EnterClosed(TcpError.TimedOut);
                return;
            }

            _keepAliveProbesSent++;
            _lastKeepAliveProbeTime = now;
            _probePending = true;
        }
    }

    private void OnRetransmitTimeout(long now)
    {
        _retransmitTimer.OnExpired();
        Counters.RetransmitTimeouts++;
        switch (State)
        {
            case TcpState.SynSent:
            case TcpState.SynReceived:
                int limit = State == TcpState.SynSent ? _config.SynRetries : _config.SynAckRetries;
                if (_retransmitTimer.Retries > limit)
                {
                    EnterClosed(TcpError.TimedOut);
                    return;
                }

                _sendNext = _iss; // TryGetSegment sends the SYN (or SYN-ACK) again
                return;
            case TcpState.TimeWait:
                return;
            default:
                break;
        }

        if (_sendMax == _sendUnacknowledged)
        {
            return; // nothing outstanding (a stale timer)
        }

        if (_retransmitTimer.Retries > _config.DataRetries)
        {
            EnterClosed(TcpError.TimedOut);
            return;
        }

        // RFC 5681 §3.1 / RFC 6582 §4: collapse cwnd, forget recovery, and resend everything from SND.UNA.
        ResetLossDetectionTimers();
        if (_retransmitTimer.Retries == 1)
        {
            ArmUndo();
        }
        else
        {
            DisarmUndo();
        }

        _congestion.OnRetransmitTimeout(_sendMax - _sendUnacknowledged, EffectiveMss, firstExpiry: _retransmitTimer.Retries == 1);
        _inRecovery = false;
        _sackRecovery = false;
        _duplicateAcks = 0;
        _recover = _sendMax - 1;
        if (_retransmitTimer.Retries >= 2)
        {
            _scoreboard.Clear(); // the peer may have reneged on SACKed data (RFC 2018 §8): resend everything
            _rack.Segments.ClearSacked();
        }

        _fastRetransmitPending = false;
        _sendNext = _sendUnacknowledged;
        _rttTiming = false;
        _ignoreEchoesBeforeTimeout = true;
        _timeoutTsval = TimestampClock(now);
    }

    /// <summary>Arms the persist timer when the peer's zero window stalls queued data with nothing in flight.</summary>
    private void UpdatePersistTimer(long now)
    {
        bool stalled = CanSendData
            && _sendWindow == 0
            && _sendNext == _sendUnacknowledged
            && !_retransmitTimer.IsRunning
            && (_sendBuffer.Count > _sendNext - _bufferSeq);
        if (!stalled)
        {
            _persistDeadline = long.MaxValue;
            _persistBackoff = 0;
            return;
        }

        if (_persistDeadline == long.MaxValue)
        {
            _persistDeadline = now + PersistInterval();
        }
    }

    private long PersistInterval()
    {
        long interval = _rtt.Rto;
        for (int i = 0; i < _persistBackoff && interval < _config.MaxPersistInterval.Ticks; i++)
        {
            interval *= 2;
        }

        return Math.Min(interval, _config.MaxPersistInterval.Ticks);
    }

    private void OnPersistTimeout(long now)
    {
        if (_persistProbesUnanswered >= _config.DataRetries)
        {
            EnterClosed(TcpError.TimedOut);
            return;
        }

        _persistProbesUnanswered++;
        _probePending = true;
        _persistBackoff++;
        _persistDeadline = now + PersistInterval();
    }
}
