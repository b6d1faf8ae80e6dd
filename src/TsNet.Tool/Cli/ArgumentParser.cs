namespace TsNet.Tool.Cli;

/// <summary>
/// Parses a command's arguments against its <see cref="CommandSpec"/>: <c>--name VALUE</c>, <c>--name=VALUE</c>,
/// flags, an option's short alias (<c>-c VALUE</c>), the spec's positional arguments in order, and <c>-h</c>/<c>--help</c>.
/// Anything else (an unknown option, a missing value, a value given to a flag, a repeated single option, a positional
/// argument beyond or short of the spec's) is a <see cref="UsageException"/> naming the culprit.
/// </summary>
internal static class ArgumentParser
{
    /// <summary>Parses <paramref name="args"/> (the arguments after the command word).</summary>
    /// <exception cref="UsageException">The arguments do not fit the spec.</exception>
    public static ParsedArguments Parse(CommandSpec spec, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var positionals = new List<string>();
        var help = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                help = true;
                continue;
            }

            if (!arg.StartsWith('-') && positionals.Count < spec.Arguments.Count)
            {
                positionals.Add(arg);
                continue;
            }

            var shortOption = arg.Length > 1 && arg[0] == '-' && arg[1] != '-' ? spec.Options.FirstOrDefault(o => o.ShortName == arg) : null;
            if (shortOption is null && (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2))
            {
                throw new UsageException(arg.StartsWith('-') ? $"unknown option '{arg}'" : $"unexpected argument '{arg}'");
            }

            var equals = shortOption is null ? arg.IndexOf('=', StringComparison.Ordinal) : -1;
            var option = shortOption
                ?? spec.Options.FirstOrDefault(o => o.Name == (equals < 0 ? arg : arg[..equals]))
                ?? throw new UsageException($"unknown option '{(equals < 0 ? arg : arg[..equals])}'");
            var name = option.Name;

            string value;
            if (option.IsFlag)
            {
                if (equals >= 0)
                {
                    throw new UsageException($"option '{name}' takes no value");
                }

                value = string.Empty;
            }
            else if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !IsOptionLike(args[i + 1]))
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"option '{name}' needs a value ({option.ValueName})");
            }

            if (!option.IsFlag && value.Length == 0)
            {
                throw new UsageException($"option '{name}' needs a value ({option.ValueName})");
            }

            if (values.TryGetValue(name, out var list))
            {
                if (!option.Repeatable)
                {
                    throw new UsageException($"option '{name}' given more than once");
                }

                list.Add(value);
            }
            else
            {
                values[name] = [value];
            }
        }

        if (!help && positionals.Count < spec.Arguments.Count)
        {
            throw new UsageException($"missing {spec.Arguments[positionals.Count]}");
        }

        return new ParsedArguments(values, help) { Arguments = positionals };
    }

    // A value may not look like an option ("--config --http"): that is almost always a forgotten value.
    private static bool IsOptionLike(string text) => text.StartsWith("--", StringComparison.Ordinal) || text is "-h";
}
