using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane;

/// <summary>
/// Collects datagrams of one loop turn and sends runs of equal-size datagrams to the same destination with one
/// GSO send (see <see cref="UdpUnderlay.GsoSegmentSize"/>): the kernel splits them again, the peer sees ordinary
/// datagrams. A run's segment size is its first datagram's length (full-size direct and relayed datagrams differ by
/// the 8-byte Geneve header, so each gets runs of its own). Order is kept: a run ends at a change of destination, at
/// a longer datagram, after a shorter one (which may end a run), or when the staging buffer is full. Without GSO
/// every datagram is sent on its own, immediately.
/// </summary>
internal sealed class SendBatch
{
    // The kernel caps one UDP send at 64 KiB and GSO at 64 segments (UDP_MAX_SEGMENTS).
    private const int MaxBytes = 65000;
    private const int MaxSegments = 64;

    private readonly byte[] _buffer = new byte[MaxBytes];
    private UnderlayAddress _destination;
    private int _length;
    private int _segments;
    private int _segmentSize;
    private bool _closed;

    public void Add(in UnderlayAddress destination, ReadOnlySpan<byte> datagram, UdpUnderlay underlay)
    {
        var gso = underlay.GsoSegmentSize;
        if (gso == 0 || datagram.Length > gso)
        {
            Flush(underlay);
            underlay.SendNow(destination, datagram);
            return;
        }

        if (_segments > 0 && (_closed || destination != _destination || datagram.Length > _segmentSize
            || _segments == MaxSegments || _length + datagram.Length > MaxBytes))
        {
            Flush(underlay);
        }

        if (_segments == 0)
        {
            _destination = destination;
            // All segments of a run but the last have the run's segment size.
            _segmentSize = datagram.Length;
        }

        datagram.CopyTo(_buffer.AsSpan(_length));
        _length += datagram.Length;
        _segments++;
        if (datagram.Length < _segmentSize)
        {
            // Only the last datagram of a GSO send may be shorter than the segment size.
            _closed = true;
        }
    }

    public void Flush(UdpUnderlay underlay)
    {
        if (_segments > 0)
        {
            underlay.SendNow(_destination, _buffer.AsSpan(0, _length), _segments > 1 ? _segmentSize : 0);
        }

        _length = 0;
        _segments = 0;
        _closed = false;
    }
}
