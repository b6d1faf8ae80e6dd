using System.Text;

namespace TsNet.Tool.Cli;

/// <summary>What a command accepts (its options) and how its help text reads.</summary>
/// <param name="Name">The command word, e.g. <c>up</c>.</param>
/// <param name="Synopsis">The usage line after <c>tsnet NAME</c>, e.g. <c>--config FILE [options]</c>.</param>
/// <param name="Summary">One sentence saying what the command does.</param>
/// <param name="Options">The accepted options (<c>--help</c>/<c>-h</c> are always accepted).</param>
internal sealed record CommandSpec(string Name, string Synopsis, string Summary, IReadOnlyList<OptionSpec> Options)
{
    /// <summary>The required positional arguments' placeholders, in order (e.g. <c>NAME|IP</c>); none by default.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The command's help text: usage line, summary and one line per option.</summary>
    public string HelpText
    {
        get
        {
            var text = new StringBuilder();
            text.Append("usage: tsnet ").Append(Name);
            if (Synopsis.Length > 0)
            {
                text.Append(' ').Append(Synopsis);
            }

            text.Append("\n\n").Append(Summary).Append('\n');
            var all = new List<OptionSpec>(Options) { new("-h, --help", null, "show this help") };
            int width = 0;
            foreach (var option in all)
            {
                width = Math.Max(width, option.Syntax.Length);
            }

            text.Append("\noptions:\n");
            foreach (var option in all)
            {
                text.Append("  ").Append(option.Syntax.PadRight(width)).Append("  ").Append(option.Help);
                if (option.Repeatable)
                {
                    text.Append(" (may repeat)");
                }

                text.Append('\n');
            }

            return text.ToString();
        }
    }
}
