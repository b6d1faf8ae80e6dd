namespace TsNet.Dataplane.Receive;

/// <summary>
/// The datagrams in one coalesced (UDP GRO) receive: consecutive slices of <c>segmentSize</c> bytes, the last one
/// possibly shorter; segment size 0 (no <c>UDP_GRO</c> message) means the whole receive is one datagram. The slices
/// point into the receive buffer: nothing is copied here.
/// </summary>
internal ref struct CoalescedDatagrams
{
    private readonly ReadOnlySpan<byte> _received;
    private readonly int _segmentSize;
    private int _offset;

    /// <summary>Splits <paramref name="received"/> at <paramref name="segmentSize"/> (0 = one datagram).</summary>
    public CoalescedDatagrams(ReadOnlySpan<byte> received, int segmentSize)
    {
        _received = received;
        _segmentSize = segmentSize > 0 ? segmentSize : Math.Max(received.Length, 1);
        _offset = -1;
        Current = default;
    }

    /// <summary>The datagram the enumerator is on.</summary>
    public ReadOnlySpan<byte> Current { get; private set; }

    /// <summary>Enables <c>foreach</c>.</summary>
    public readonly CoalescedDatagrams GetEnumerator() => this;

    /// <summary>Moves to the next datagram; an empty receive is one empty datagram (UDP allows them).</summary>
    public bool MoveNext()
    {
        if (_offset < 0)
        {
            _offset = 0;
        }
        else if (_offset >= _received.Length)
        {
            return false;
        }

        var length = Math.Min(_segmentSize, _received.Length - _offset);
        Current = _received.Slice(_offset, length);
        _offset += length;
        if (length == 0)
        {
            _offset = 1; // the one empty datagram of an empty receive; stop after it
        }

        return true;
    }
}
