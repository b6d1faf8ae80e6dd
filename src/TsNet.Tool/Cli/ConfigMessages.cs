using System.Globalization;
using System.Text.RegularExpressions;

namespace TsNet.Tool.Cli;

/// <summary>
/// Puts the configuration file's name in front of a parser message the way compilers do (<c>FILE:LINE: message</c>),
/// so an editor or a shell user can jump to the line.
/// </summary>
internal static partial class ConfigMessages
{
    /// <summary>An error at <paramref name="lineNumber"/> (0 = the file as a whole): <c>FILE:LINE: reason</c> or <c>FILE: reason</c>.</summary>
    public static string Error(string file, int lineNumber, string message)
    {
        var reason = StripLinePrefix(message, out _);
        return lineNumber > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{file}:{lineNumber}: {reason}")
            : $"{file}: {reason}";
    }

    /// <summary>A warning from the parser (<c>line 4: DNS is ignored</c>) as <c>FILE:4: warning: DNS is ignored</c>.</summary>
    public static string Warning(string file, string message)
    {
        var reason = StripLinePrefix(message, out var line);
        return line > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{file}:{line}: warning: {reason}")
            : $"{file}: warning: {reason}";
    }

    // The parser's messages start with "line N: " when they are about one line of text.
    private static string StripLinePrefix(string message, out int line)
    {
        var match = LinePrefix().Match(message);
        if (match.Success)
        {
            line = int.Parse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
            return message[match.Length..];
        }

        line = 0;
        return message;
    }

    [GeneratedRegex(@"^line ([0-9]{1,9}): ")]
    private static partial Regex LinePrefix();
}
