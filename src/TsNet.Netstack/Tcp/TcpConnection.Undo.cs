using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// Undoing a window reduction the network proved unnecessary (RFC 3708 §3 with D-SACK, Linux's undo_retrans): when a
/// recovery or a timeout begins, the window before it is kept; every retransmission of data outstanding then is
/// counted, every D-SACK for that data (the receiver got a duplicate, so the original had arrived) uncounts one; when
/// none is left, all retransmissions were spurious — reordering or delay, not loss — and the window comes back.
/// </summary>
internal sealed partial class TcpConnection
{
    private bool _undoArmed;
    private SeqNum _undoStart; // SND.UNA when the reduction happened
    private SeqNum _undoEnd; // SND.MAX then: only retransmissions below it count
    private int _undoRetransmissions; // retransmissions not yet shown unnecessary
    private int _undoWindow;
    private int _undoSlowStartThreshold;

    /// <summary>Remembers the window before a reduction (call before the congestion controller reduces).</summary>
    private void ArmUndo()
    {
        _undoArmed = true;
        _undoStart = _sendUnacknowledged;
        _undoEnd = _sendMax;
        _undoRetransmissions = 0;
        _undoWindow = _congestion.Window;
        _undoSlowStartThreshold = _congestion.SlowStartThreshold;
    }

    /// <summary>Counts a data retransmission starting at <paramref name="start"/>.</summary>
    private void CountRetransmission(SeqNum start)
    {
        Counters.Retransmissions++;
        if (_undoArmed && start < _undoEnd)
        {
            _undoRetransmissions++;
        }
    }

    /// <summary>A D-SACK block arrived: if it covers retransmitted data of the current episode, one retransmission was unnecessary.</summary>
    private void OnDsackForUndo(in SackBlock dsack)
    {
        if (!_undoArmed || _undoRetransmissions == 0 || dsack.Left < _undoStart || dsack.Right > _undoEnd)
        {
            return;
        }

        // One block per duplicate segment (a receiver may extend a block over adjacent duplicates).
        int mss = Math.Max(1, EffectiveMss);
        _undoRetransmissions -= Math.Max(1, (dsack.Length + mss - 1) / mss);
        if (_undoRetransmissions > 0)
        {
            return;
        }

        _undoArmed = false;
        Counters.UndoneReductions++;
        _congestion.OnUndo(_undoWindow, _undoSlowStartThreshold);
        if (_inRecovery)
        {
            // Nothing was lost: leave recovery (the recovery point stays, so the same marks do not start another).
            _inRecovery = false;
            _sackRecovery = false;
            _fastRetransmitPending = false;
        }
    }

    /// <summary>Repeated timeouts are not reordering: nothing to undo for this episode.</summary>
    private void DisarmUndo() => _undoArmed = false;
}
