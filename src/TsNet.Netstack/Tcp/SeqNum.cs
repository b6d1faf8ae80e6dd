namespace TsNet.Netstack.Tcp;

/// <summary>
/// A TCP sequence number: arithmetic and comparison modulo 2^32 (RFC 9293 §3.4, RFC 1982). <c>a &lt; b</c> means
/// "<c>a</c> comes before <c>b</c>", i.e. <c>(int)(a − b) &lt; 0</c>; this is only meaningful for numbers less than
/// 2^31 apart, which the window rules guarantee. There is deliberately no <see cref="IComparable{T}"/>: the order
/// is not transitive over the whole space, so sorting arbitrary sequence numbers is a bug.
/// </summary>
internal readonly record struct SeqNum(uint Value)
{
    /// <summary>The number <paramref name="count"/> bytes after <paramref name="seq"/> (negative counts go back).</summary>
    public static SeqNum operator +(SeqNum seq, int count) => new(unchecked(seq.Value + (uint)count));

    /// <summary>The number <paramref name="count"/> bytes before <paramref name="seq"/>.</summary>
    public static SeqNum operator -(SeqNum seq, int count) => new(unchecked(seq.Value - (uint)count));

    /// <summary>Signed distance from <paramref name="right"/> to <paramref name="left"/> (negative when left is before).</summary>
    public static int operator -(SeqNum left, SeqNum right) => unchecked((int)(left.Value - right.Value));

    /// <summary>True when <paramref name="left"/> comes before <paramref name="right"/>.</summary>
    public static bool operator <(SeqNum left, SeqNum right) => left - right < 0;

    /// <summary>True when <paramref name="left"/> comes after <paramref name="right"/>.</summary>
    public static bool operator >(SeqNum left, SeqNum right) => left - right > 0;

    /// <summary>True when <paramref name="left"/> does not come after <paramref name="right"/>.</summary>
    public static bool operator <=(SeqNum left, SeqNum right) => left - right <= 0;

    /// <summary>True when <paramref name="left"/> does not come before <paramref name="right"/>.</summary>
    public static bool operator >=(SeqNum left, SeqNum right) => left - right >= 0;

    /// <summary>The later of two numbers.</summary>
    public static SeqNum Max(SeqNum a, SeqNum b) => a > b ? a : b;

    /// <summary>The earlier of two numbers.</summary>
    public static SeqNum Min(SeqNum a, SeqNum b) => a < b ? a : b;

    /// <summary>True when <paramref name="low"/> ≤ this &lt; <paramref name="high"/> (a half-open range).</summary>
    public bool IsInRange(SeqNum low, SeqNum high) => this >= low && this < high;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
