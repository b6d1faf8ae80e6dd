namespace TsNet.Packets;

/// <summary>
/// Walks the options of a TCP header: End of List stops, No-Operation is skipped, every other option is
/// <c>kind, length, data</c> with <c>length ≥ 2</c> and within the option space. Unknown kinds are returned like
/// known ones (the caller skips them). A malformed length stops the walk with <see cref="IsMalformed"/> set, and
/// RFC 9293 practice is to drop such a segment.
/// </summary>
internal ref struct TcpOptionReader
{
    private const int KindAndLengthSize = 2;

    private ReadOnlySpan<byte> _remaining;

    /// <summary>Starts reading <paramref name="options"/> (a header's option space).</summary>
    public TcpOptionReader(ReadOnlySpan<byte> options) => _remaining = options;

    /// <summary>True once an option with a bad length was met.</summary>
    public bool IsMalformed { get; private set; }

    /// <summary>Reads the next option; false at the end of the options or on a malformed one.</summary>
    /// <param name="kind">Option kind (<see cref="TcpOptionKind"/>).</param>
    /// <param name="data">Option data without kind and length.</param>
    public bool TryRead(out byte kind, out ReadOnlySpan<byte> data)
    {
        while (!_remaining.IsEmpty && _remaining[0] == TcpOptionKind.NoOperation)
        {
            _remaining = _remaining[1..];
        }

        kind = 0;
        data = default;
        if (_remaining.IsEmpty || _remaining[0] == TcpOptionKind.EndOfList)
        {
            _remaining = default;
            return false;
        }

        if (_remaining.Length < KindAndLengthSize || _remaining[1] < KindAndLengthSize || _remaining[1] > _remaining.Length)
        {
            IsMalformed = true;
            _remaining = default;
            return false;
        }

        int length = _remaining[1];
        kind = _remaining[0];
        data = _remaining[KindAndLengthSize..length];
        _remaining = _remaining[length..];
        return true;
    }
}
