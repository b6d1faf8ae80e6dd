using System.Diagnostics.CodeAnalysis;

namespace TsNet.Control.Netmap;

/// <summary>
/// Makes equal strings one instance (tags repeat across thousands of peers; each parsed copy would be held apart).
/// Bounded: past <see cref="MaxStrings"/> distinct strings it returns its input, so a server sending unique values
/// cannot grow it without limit. Single-threaded (the folder's).
/// </summary>
internal sealed class StringPool
{
    /// <summary>Most distinct strings held.</summary>
    public const int MaxStrings = 4096;

    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);

    /// <summary>Strings held.</summary>
    public int Count => _strings.Count;

    /// <summary>The pool's instance equal to <paramref name="text"/> (added when new and there is room).</summary>
    [return: NotNullIfNotNull(nameof(text))]
    public string? Intern(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (_strings.TryGetValue(text, out var held))
        {
            return held;
        }

        if (_strings.Count < MaxStrings)
        {
            _strings.Add(text);
        }

        return text;
    }

    /// <summary>Forgets every string (a full map: what it does not use again need not stay).</summary>
    public void Clear() => _strings.Clear();
}
