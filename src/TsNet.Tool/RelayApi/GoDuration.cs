using System.Globalization;
using System.Text;

namespace TsNet.Tool.RelayApi;

/// <summary>
/// Formats a <see cref="TimeSpan"/> the way Go's <c>time.Duration.String</c> does (<c>30s</c>, <c>5m0s</c>,
/// <c>1h0m0s</c>, <c>1.5s</c>, <c>250ms</c>, <c>1.5µs</c>, <c>100ns</c>, <c>0s</c>): tailscale's <c>tstime.GoDuration</c> marshals to this text, and
/// clients parse it with <c>time.ParseDuration</c>.
/// </summary>
internal static class GoDuration
{
    private const long NanosecondsPerTick = 100;
    private const long NanosecondsPerMicrosecond = 1_000;
    private const long NanosecondsPerMillisecond = 1_000_000;
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>The Go duration string of <paramref name="duration"/> (exact to the tick, 100 ns).</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder();
        // TimeSpan.MinValue cannot be negated: its magnitude as an unsigned count of ticks can.
        ulong ticks = duration.Ticks < 0 ? (ulong)(-(duration.Ticks + 1)) + 1 : (ulong)duration.Ticks;
        if (duration.Ticks < 0)
        {
            text.Append('-');
        }

        // Durations below one second use the largest unit that keeps the integer part non-zero.
        if (ticks * NanosecondsPerTick < NanosecondsPerSecond)
        {
            ulong nanoseconds = ticks * NanosecondsPerTick;
            if (nanoseconds < NanosecondsPerMicrosecond)
            {
                return text.Append(nanoseconds.ToString(CultureInfo.InvariantCulture)).Append("ns").ToString();
            }

            if (nanoseconds < NanosecondsPerMillisecond)
            {
                AppendDecimal(text, nanoseconds / NanosecondsPerMicrosecond, nanoseconds % NanosecondsPerMicrosecond, 3);
                return text.Append("µs").ToString();
            }

            AppendDecimal(text, nanoseconds / NanosecondsPerMillisecond, nanoseconds % NanosecondsPerMillisecond, 6);
            return text.Append("ms").ToString();
        }

        ulong totalSeconds = ticks / TimeSpan.TicksPerSecond;
        ulong fractionNanoseconds = ticks % TimeSpan.TicksPerSecond * NanosecondsPerTick;
        ulong hours = totalSeconds / 3600;
        ulong minutes = totalSeconds / 60 % 60;
        ulong seconds = totalSeconds % 60;
        if (hours > 0)
        {
            text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || minutes > 0)
        {
            text.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        AppendDecimal(text, seconds, fractionNanoseconds, 9);
        return text.Append('s').ToString();
    }

    // whole[.fraction] with the fraction's trailing zeros removed (Go's fmtFrac).
    private static void AppendDecimal(StringBuilder text, ulong whole, ulong fraction, int fractionDigits)
    {
        text.Append(whole.ToString(CultureInfo.InvariantCulture));
        if (fraction != 0)
        {
            text.Append('.').Append(fraction.ToString(CultureInfo.InvariantCulture).PadLeft(fractionDigits, '0').TrimEnd('0'));
        }
    }
}
