using System.Globalization;

namespace TsNet.Tool.Cli;

/// <summary>The options given to one command, by name; see <see cref="ArgumentParser"/>.</summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, List<string>> _values;

    internal ParsedArguments(Dictionary<string, List<string>> values, bool helpRequested)
    {
        _values = values;
        HelpRequested = helpRequested;
    }

    /// <summary>True when <c>--help</c> or <c>-h</c> was given.</summary>
    public bool HelpRequested { get; }

    /// <summary>The positional arguments, in the order of <see cref="CommandSpec.Arguments"/>.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>True when the option (flag or option with value) was given.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The option's value, or null when it was not given.</summary>
    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    /// <summary>Every value of a repeatable option, in order (empty when not given).</summary>
    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];

    /// <summary>The option's value as a TCP/UDP port (1–65535); null when not given.</summary>
    /// <exception cref="UsageException">The value is not a port number.</exception>
    public int? Port(string name)
    {
        var text = Value(name);
        return text is null ? null : ParsePort(name, text);
    }

    /// <summary>Every value of a repeatable option as a port.</summary>
    /// <exception cref="UsageException">A value is not a port number.</exception>
    public IReadOnlyList<int> Ports(string name)
    {
        var values = Values(name);
        var ports = new int[values.Count];
        for (int i = 0; i < ports.Length; i++)
        {
            ports[i] = ParsePort(name, values[i]);
        }

        return ports;
    }

    /// <summary>Parses a port number for option <paramref name="name"/>.</summary>
    /// <exception cref="UsageException">Not an integer in 1–65535.</exception>
    public static int ParsePort(string name, string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new UsageException($"{name}: '{text}' is not a port number (1-65535)");
        }

        return port;
    }
}
