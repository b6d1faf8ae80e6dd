namespace TsNet.WireGuard.Protocol;

/// <summary>
/// Time in the protocol core: <c>long</c> ticks of 100 ns on a monotonic clock chosen by the owner (the dataplane
/// passes elapsed time from a <see cref="TimeProvider"/>). Sentinels mark "never" and "not armed".
/// </summary>
internal static class Timestamps
{
    /// <summary>An event that has not happened; far enough in the past that "now − Never" cannot overflow.</summary>
    public const long Never = long.MinValue / 4;

    /// <summary>A deadline that is not armed.</summary>
    public const long NotArmed = long.MaxValue;

    public static long Since(long now, long then) => now - then;
}
