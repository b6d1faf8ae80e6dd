namespace TsNet.Netstack.Tcp;

/// <summary>
/// Buffer autotuning between the initial size and the configured maximum (design §5: 64 KiB → 4 MiB). Receive side
/// (like Linux's dynamic right-sizing): when the peer delivered more than half the buffer within one RTT, the window
/// limits the flow, so the buffer doubles. Send side: the buffer grows to twice what the congestion and peer windows
/// let us keep in flight, so the application can keep the pipe full. These are limits: the arrays behind them are
/// rented only while bytes are held (see <see cref="SendBuffer"/>, <see cref="ReceiveBuffer"/>).
/// </summary>
internal sealed partial class TcpConnection
{
    /// <summary>Shortest measuring interval, so a tiny RTT estimate does not make every burst look like a full window.</summary>
    private static readonly long MinAutotuneInterval = TimeSpan.FromMilliseconds(10).Ticks;

    private long _autotuneStart;
    private int _autotuneBytes;

    /// <summary>Current receive buffer size.</summary>
    internal int ReceiveBufferCapacity => _receiveBuffer.Capacity;

    /// <summary>Current send buffer size.</summary>
    internal int SendBufferCapacity => _sendBuffer.Capacity;

    /// <summary>Bytes of pooled arrays this connection holds now (send and receive buffers; 0 when idle).</summary>
    internal int PooledBufferBytes => _sendBuffer.StorageLength + _receiveBuffer.StorageLength;

    /// <summary>True while the reassembler or the SACK scoreboard holds a rented range array.</summary>
    internal bool HoldsRangeStorage => _reassembler.HasStorage || _scoreboard.HasStorage;

    private void AutotuneReceive(int delivered, long now)
    {
        if (_receiveBuffer.Capacity >= _receiveBuffer.MaxCapacity)
        {
            return;
        }

        long interval = Math.Max(_rtt.HasSample ? _rtt.SmoothedRtt : _rtt.Rto, MinAutotuneInterval);
        if (now - _autotuneStart > interval)
        {
            _autotuneStart = now;
            _autotuneBytes = 0;
        }

        _autotuneBytes += delivered;
        if (_autotuneBytes * 2L > _receiveBuffer.Capacity)
        {
            _receiveBuffer.Grow(_receiveBuffer.Capacity * 2);
            _autotuneStart = now;
            _autotuneBytes = 0;
        }
    }

    private void AutotuneSend()
    {
        long inFlightLimit = Math.Min(_congestion.Window, _sendWindow);
        if (_sendBuffer.Capacity < _sendBuffer.MaxCapacity && inFlightLimit * 2 > _sendBuffer.Capacity)
        {
            _sendBuffer.Grow((int)Math.Min(_sendBuffer.Capacity * 2L, _sendBuffer.MaxCapacity));
        }
    }
}
