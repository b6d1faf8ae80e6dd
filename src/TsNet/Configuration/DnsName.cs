namespace TsNet.Configuration;

/// <summary>Checks host names and DNS suffixes: dot-separated labels of letters, digits and inner hyphens (RFC 1123).</summary>
internal static class DnsName
{
    /// <summary>Longest DNS label (RFC 1035 §2.3.4).</summary>
    private const int MaxLabelLength = 63;

    /// <summary>Longest name in text form without the trailing dot (RFC 1035 §2.3.4: 255 octets on the wire).</summary>
    private const int MaxNameLength = 253;

    /// <summary>True when <paramref name="name"/> is one or more valid labels joined by dots (no leading or trailing dot).</summary>
    public static bool IsValid(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (!IsValidLabel(label))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidLabel(string label)
    {
        if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }
}
