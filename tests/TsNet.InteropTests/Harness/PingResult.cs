using System.Globalization;
using System.Text.RegularExpressions;

namespace TsNet.InteropTests.Harness;

/// <summary>The summary of one <c>ping</c> run (iputils), parsed from its output.</summary>
public sealed partial record PingResult(int Transmitted, int Received, double LossPercent, int ExitCode, string Output)
{
    /// <summary>True when the statistics line was found.</summary>
    public bool Parsed => Transmitted >= 0;

    /// <summary>Parses <c>N packets transmitted, M received, ..., L% packet loss</c>; -1/100 % when absent.</summary>
    public static PingResult Parse(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.StandardOutput + "\n" + result.StandardError;
        var counts = CountsPattern().Match(text);
        var loss = LossPattern().Match(text);
        if (!counts.Success || !loss.Success)
        {
            return new PingResult(-1, -1, 100, result.ExitCode, text.Trim());
        }

        return new PingResult(
            int.Parse(counts.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
            int.Parse(counts.Groups[2].ValueSpan, CultureInfo.InvariantCulture),
            double.Parse(loss.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
            result.ExitCode,
            text.Trim());
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"ping: {Transmitted} transmitted, {Received} received, {LossPercent.ToString(CultureInfo.InvariantCulture)}% loss (exit {ExitCode})\n{Output}";

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) received")]
    private static partial Regex CountsPattern();

    [GeneratedRegex(@"([0-9.]+)% packet loss")]
    private static partial Regex LossPattern();
}
