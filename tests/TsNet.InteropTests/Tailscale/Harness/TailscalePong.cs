using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// One answer of <c>tailscale ping</c> (a disco ping): <c>pong from NAME (IP) via PATH in T</c>, where PATH is the
/// peer's direct UDP address (<c>127.0.0.1:41642</c>, <c>[::1]:41642</c>) or <c>DERP(&lt;region code&gt;)</c>.
/// </summary>
public sealed partial record TailscalePong(string Name, string Address, string Via, string Latency, string Line)
{
    /// <summary>True when the pong came back through a DERP server.</summary>
    public bool IsDerp => Via.StartsWith("DERP(", StringComparison.Ordinal);

    /// <summary>True when the pong came back over direct UDP (an <c>ip:port</c>).</summary>
    public bool IsDirect => !IsDerp && System.Net.IPEndPoint.TryParse(Via, out _);

    /// <summary>The pongs in <c>tailscale ping</c>'s output, in order.</summary>
    public static IReadOnlyList<TailscalePong> ParseAll(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var pongs = new List<TailscalePong>();
        foreach (var line in output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var match = PongPattern().Match(line);
            if (match.Success)
            {
                pongs.Add(new TailscalePong(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value, match.Groups[4].Value, line));
            }
        }

        return pongs;
    }

    /// <summary>
    /// <c>tailscale ping -c COUNT --timeout PER_PING TARGET</c> on <paramref name="node"/> (stops early at a direct pong,
    /// tailscale's default); returns every pong, possibly none (bounded by the count × the per-ping timeout).
    /// </summary>
    public static async Task<IReadOnlyList<TailscalePong>> PingAsync(Tailscaled node, string target, int count, TimeSpan perPing, bool quiet = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        var seconds = Math.Max(1, (int)Math.Ceiling(perPing.TotalSeconds));
        var result = await node.RunCliAsync(
            new[] { "ping", "-c", count.ToString(CultureInfo.InvariantCulture), "--timeout", seconds.ToString(CultureInfo.InvariantCulture) + "s", target },
            TimeSpan.FromSeconds((count * (seconds + 1)) + 10),
            quiet,
            cancellationToken);
        return ParseAll(result.StandardOutput);
    }

    /// <summary>
    /// Pings <paramref name="target"/> once at a time (2 s per ping) until a pong satisfies <paramref name="condition"/>
    /// and returns it with the time that took; throws with the pongs seen when <paramref name="timeout"/> passes first.
    /// </summary>
    public static async Task<(TailscalePong Pong, TimeSpan Elapsed)> WaitForAsync(
        Tailscaled node, string target, Func<TailscalePong, bool> condition, TimeSpan timeout, string description, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        var seen = new List<string>();
        while (true)
        {
            foreach (var pong in await PingAsync(node, target, 1, TimeSpan.FromSeconds(2), quiet: true, cancellationToken))
            {
                if (condition(pong))
                {
                    return (pong, clock.Elapsed);
                }

                seen.Add(pong.Via);
            }

            if (clock.Elapsed >= timeout)
            {
                throw new TimeoutException(
                    $"{node.Name}: no pong from {target} {description} within {timeout.TotalSeconds:0} s; pongs came via [{string.Join(", ", seen.TakeLast(20))}]");
            }

            // A pong that did not qualify came back at once: do not spin (bounded by the timeout above).
            await Task.Delay(200, cancellationToken);
        }
    }

    [GeneratedRegex(@"^pong from (\S+) \((\S+)\) via (\S+) in (\S+)$")]
    private static partial Regex PongPattern();
}
