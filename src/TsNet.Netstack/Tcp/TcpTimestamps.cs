namespace TsNet.Netstack.Tcp;

/// <summary>The timestamps option (RFC 7323 §3, kind 8, length 10): the sender's clock and the echoed one.</summary>
/// <param name="Value">TSval: the sender's timestamp clock when the segment was sent.</param>
/// <param name="EchoReply">TSecr: the most recent TSval the sender received (TS.Recent).</param>
internal readonly record struct TcpTimestamps(uint Value, uint EchoReply)
{
    /// <summary>Our timestamp clock at <paramref name="now"/> (ticks): milliseconds plus the per-flow <paramref name="offset"/> (RFC 7323 §5.4).</summary>
    public static uint ClockAt(long now, uint offset) => unchecked((uint)(now / TimeSpan.TicksPerMillisecond) + offset);
}
