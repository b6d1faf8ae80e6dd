using System.Text.RegularExpressions;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Names for the namespaces, TUN devices and wg sockets the harness creates: <c>tsnit</c> + the owning test
/// process's pid (5 base-36 digits) + a counter (2 base-36 digits), 12 characters (TUN names allow 15). The pid in
/// the name lets a later run tell leftovers of a crashed run from resources of a run that is still going.
/// </summary>
public static partial class ResourceNames
{
    /// <summary>Prefix of every resource name.</summary>
    public const string Prefix = "tsnit";

    private const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
    private static int _counter;

    /// <summary>A new unique name owned by this process.</summary>
    public static string Next()
    {
        var serial = Interlocked.Increment(ref _counter) % (36 * 36);
        return Prefix + ToBase36(Environment.ProcessId, 5) + ToBase36(serial, 2);
    }

    /// <summary>True when <paramref name="name"/> is one of ours; <paramref name="ownerPid"/> is the process that made it.</summary>
    public static bool TryParseOwner(string name, out int ownerPid)
    {
        ownerPid = 0;
        var match = NamePattern().Match(name);
        if (!match.Success)
        {
            return false;
        }

        foreach (var c in match.Groups[1].ValueSpan)
        {
            ownerPid = (ownerPid * 36) + Digits.IndexOf(c, StringComparison.Ordinal);
        }

        return true;
    }

    private static string ToBase36(int value, int width)
    {
        var chars = new char[width];
        for (var i = width - 1; i >= 0; i--)
        {
            chars[i] = Digits[value % 36];
            value /= 36;
        }

        return new string(chars);
    }

    [GeneratedRegex("^tsnit([0-9a-z]{5})([0-9a-z]{2})$")]
    private static partial Regex NamePattern();
}
