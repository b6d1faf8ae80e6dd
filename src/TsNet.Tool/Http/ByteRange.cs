using System.Globalization;

namespace TsNet.Tool.Http;

/// <summary>
/// The one byte range a <c>Range</c> header asks of a file (RFC 9110 §14): <c>bytes=A-B</c>, <c>bytes=A-</c> or the
/// suffix <c>bytes=-N</c>, clipped to the file. Several ranges, another unit or bad syntax ask for nothing (the whole
/// file is served); a range starting at or past the end is unsatisfiable (416).
/// </summary>
internal readonly record struct ByteRange(long First, long Last)
{
    /// <summary>The number of bytes in the range.</summary>
    public long Length => Last - First + 1;

    /// <summary>What <paramref name="header"/> asks of a file of <paramref name="length"/> bytes.</summary>
    public static ByteRangeRequest Parse(string? header, long length, out ByteRange range)
    {
        range = default;
        const string unit = "bytes=";
        if (header is null || length == 0 || !header.StartsWith(unit, StringComparison.OrdinalIgnoreCase))
        {
            return ByteRangeRequest.None;
        }

        var spec = header.AsSpan(unit.Length).Trim();
        var dash = spec.IndexOf('-');
        if (dash < 0 || spec.IndexOf(',') >= 0)
        {
            return ByteRangeRequest.None; // bad syntax, or several ranges: served whole
        }

        var firstText = spec[..dash].Trim();
        var lastText = spec[(dash + 1)..].Trim();
        if (firstText.IsEmpty)
        {
            if (!TryParseCount(lastText, out var suffix))
            {
                return ByteRangeRequest.None;
            }

            if (suffix == 0)
            {
                return ByteRangeRequest.Unsatisfiable;
            }

            range = new ByteRange(Math.Max(0, length - suffix), length - 1);
            return ByteRangeRequest.Range;
        }

        if (!TryParseCount(firstText, out var first))
        {
            return ByteRangeRequest.None;
        }

        var last = length - 1;
        if (!lastText.IsEmpty)
        {
            if (!TryParseCount(lastText, out var lastAsked) || lastAsked < first)
            {
                return ByteRangeRequest.None;
            }

            last = Math.Min(last, lastAsked);
        }

        if (first >= length)
        {
            return ByteRangeRequest.Unsatisfiable;
        }

        range = new ByteRange(first, last);
        return ByteRangeRequest.Range;
    }

    // 1*DIGIT; a count too large for a long is past any file's end.
    private static bool TryParseCount(ReadOnlySpan<char> text, out long value)
    {
        if (text.IsEmpty || text.ContainsAnyExceptInRange('0', '9'))
        {
            value = 0;
            return false;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            value = long.MaxValue;
        }

        return true;
    }
}
