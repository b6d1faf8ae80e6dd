using System.Globalization;

namespace TsNet.Benchmarks.Soak;

/// <summary>The <c>soak</c> command's settings (flags in <see cref="Parse"/>).</summary>
internal sealed record SoakOptions
{
    /// <summary>How long traffic runs.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>TCP streams in flight at once.</summary>
    public int Streams { get; init; } = 64;

    /// <summary>Per-datagram loss on every node's outgoing underlay traffic.</summary>
    public double Loss { get; init; } = 0.01;

    /// <summary>Per-datagram reordering on every node's outgoing underlay traffic.</summary>
    public double Reorder { get; init; } = 0.01;

    /// <summary>Seed of everything random (sizes, directions, payload bytes, loss draws).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Interval of the periodic resource lines.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Interval between peer removals (each followed by a re-add).</summary>
    public TimeSpan ChurnInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a churned peer stays removed.</summary>
    public TimeSpan ChurnDown { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Smallest stream payload.</summary>
    public long MinStreamBytes { get; init; } = 1024;

    /// <summary>Largest stream payload (sizes are log-uniform in between).</summary>
    public long MaxStreamBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>UDP echo datagrams sent per second on each echo pair.</summary>
    public int UdpRate { get; init; } = 100;

    /// <summary>A stream that moves no byte for this long is aborted and counted as stalled.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>After the deadline: how long streams in flight may take to finish before they are cut.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The resource sample taken after this long is the baseline the end is compared with (the first report or a
    /// third of the run, whichever is earlier).
    /// </summary>
    public TimeSpan WarmUp => TimeSpan.FromTicks(Math.Min(ReportInterval.Ticks, Duration.Ticks / 3));

    /// <summary>
    /// Parses <c>[--minutes 30] [--streams 64] [--loss 0.01] [--reorder 0.01] [--seed S] [--report-minutes 5]
    /// [--churn-seconds 60] [--churn-down-seconds 5] [--max-size BYTES] [--udp-rate N]</c>.
    /// </summary>
    public static SoakOptions Parse(string[] args)
    {
        var options = new SoakOptions();
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"soak: {args[i]} needs a value");
            }

            var value = args[++i];
            options = args[i - 1] switch
            {
                "--minutes" => options with { Duration = TimeSpan.FromMinutes(Number(value)) },
                "--streams" => options with { Streams = (int)Number(value) },
                "--loss" => options with { Loss = Number(value) },
                "--reorder" => options with { Reorder = Number(value) },
                "--seed" => options with { Seed = (int)Number(value) },
                "--report-minutes" => options with { ReportInterval = TimeSpan.FromMinutes(Number(value)) },
                "--churn-seconds" => options with { ChurnInterval = TimeSpan.FromSeconds(Number(value)) },
                "--churn-down-seconds" => options with { ChurnDown = TimeSpan.FromSeconds(Number(value)) },
                "--max-size" => options with { MaxStreamBytes = (long)Number(value) },
                "--udp-rate" => options with { UdpRate = (int)Number(value) },
                _ => throw new ArgumentException($"soak: unknown flag {args[i - 1]}"),
            };
        }

        if (options.Streams < 1 || options.Loss is < 0 or >= 1 || options.Reorder is < 0 or >= 1 || options.Duration <= TimeSpan.Zero
            || options.MaxStreamBytes < options.MinStreamBytes || options.UdpRate < 1 || options.ReportInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("soak: a flag is out of range");
        }

        return options;
    }

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
