using System.Text;

namespace TsNet.Tool.Http;

/// <summary>
/// The directory <c>--www</c> serves, and the mapping from a request target to a file strictly inside it: the path is
/// percent-decoded (strictly, UTF-8), <c>..</c>, <c>.</c>, backslashes and NUL are refused, and the resolved path (and
/// a symbolic link's final target) must lie under the root.
/// </summary>
internal sealed class WwwRoot
{
    /// <summary>Serves <paramref name="directory"/> (made absolute).</summary>
    public WwwRoot(string directory)
    {
        FullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
    }

    /// <summary>The absolute root directory.</summary>
    public string FullPath { get; }

    /// <summary>How a target maps to a file.</summary>
    public enum Resolution
    {
        /// <summary>A regular file inside the root.</summary>
        Found,

        /// <summary>A well-formed path that names no file inside the root.</summary>
        NotFound,

        /// <summary>A malformed or forbidden path (bad escape, <c>..</c>, NUL): 400.</summary>
        BadRequest,
    }

    /// <summary>Maps <paramref name="target"/> (e.g. <c>/dir/file.bin?x</c>) to a file path.</summary>
    public Resolution Resolve(string target, out string filePath)
    {
        filePath = string.Empty;
        if (!target.StartsWith('/'))
        {
            return Resolution.BadRequest;
        }

        var end = target.IndexOfAny(['?', '#']);
        var encoded = end < 0 ? target : target[..end];
        if (!TryPercentDecode(encoded, out var decoded))
        {
            return Resolution.BadRequest;
        }

        var segments = decoded.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s is "." or ".." || s.Contains('\\', StringComparison.Ordinal) || s.Contains('\0', StringComparison.Ordinal)))
        {
            return Resolution.BadRequest;
        }

        if (segments.Length == 0)
        {
            return Resolution.NotFound;
        }

        var candidate = Path.GetFullPath(Path.Join([FullPath, .. segments]));
        if (!IsInside(candidate) || !File.Exists(candidate))
        {
            return Resolution.NotFound;
        }

        // A link inside the root may point anywhere; only serve it when its final target is inside too.
        var link = File.ResolveLinkTarget(candidate, returnFinalTarget: true);
        if (link is not null && !IsInside(Path.GetFullPath(link.FullName)))
        {
            return Resolution.NotFound;
        }

        filePath = candidate;
        return Resolution.Found;
    }

    private bool IsInside(string path) =>
        path.StartsWith(FullPath + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    // RFC 3986 percent-decoding that refuses malformed escapes and invalid UTF-8 instead of passing them through.
    private static bool TryPercentDecode(string text, out string decoded)
    {
        decoded = string.Empty;
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    return false;
                }

                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else if (c > 0x7F)
            {
                return false;
            }
            else
            {
                bytes.Add((byte)c);
            }
        }

        try
        {
            decoded = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
