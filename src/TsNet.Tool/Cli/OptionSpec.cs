namespace TsNet.Tool.Cli;

/// <summary>
/// One <c>--name</c> option of a command: a flag (no value) or an option with a value (<c>--name VALUE</c> or
/// <c>--name=VALUE</c>), optionally repeatable.
/// </summary>
/// <param name="Name">The long name with its dashes, e.g. <c>--config</c>.</param>
/// <param name="ValueName">Placeholder for the value in the help text (e.g. <c>FILE</c>); null for a flag.</param>
/// <param name="Help">One line of help.</param>
/// <param name="Repeatable">True when the option may be given more than once.</param>
internal sealed record OptionSpec(string Name, string? ValueName, string Help, bool Repeatable = false)
{
    /// <summary>True for an option without a value.</summary>
    public bool IsFlag => ValueName is null;

    /// <summary>A one-letter alias with one dash (<c>-c</c>), or null; it takes its value as the next argument.</summary>
    public string? ShortName { get; init; }

    /// <summary>How the option appears in the help text, e.g. <c>--config FILE</c> or <c>-c, --count N</c>.</summary>
    public string Syntax => (ShortName is null ? string.Empty : ShortName + ", ") + (IsFlag ? Name : Name + " " + ValueName);
}
