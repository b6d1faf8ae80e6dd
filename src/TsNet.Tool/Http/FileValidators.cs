using System.Globalization;

namespace TsNet.Tool.Http;

/// <summary>
/// A served file's validators (RFC 9110 §8.8): <c>Last-Modified</c> (to the second) and a strong <c>ETag</c> made of
/// the modification time and the length, and how request preconditions compare to them.
/// </summary>
internal sealed class FileValidators
{
    // IMF-fixdate first; the two obsolete forms recipients must still accept (RFC 9110 §5.6.7).
    private static readonly string[] s_dateFormats = ["r", "dddd, dd'-'MMM'-'yy HH':'mm':'ss 'GMT'", "ddd MMM d HH':'mm':'ss yyyy"];

    /// <summary>Validators of a file last written at <paramref name="lastWriteUtc"/> with <paramref name="length"/> bytes.</summary>
    public FileValidators(DateTime lastWriteUtc, long length)
    {
        LastModified = new DateTimeOffset(lastWriteUtc.Ticks - (lastWriteUtc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        ETag = string.Create(CultureInfo.InvariantCulture, $"\"{LastModified.ToUnixTimeSeconds():x}-{length:x}\"");
    }

    /// <summary>The modification time, whole seconds, UTC.</summary>
    public DateTimeOffset LastModified { get; }

    /// <summary>The <c>Last-Modified</c> header value.</summary>
    public string LastModifiedText => LastModified.ToString("r", CultureInfo.InvariantCulture);

    /// <summary>The strong entity tag, quoted.</summary>
    public string ETag { get; }

    /// <summary>True when the list of entity tags <paramref name="header"/> holds <c>*</c> or this tag (weak comparison when <paramref name="weak"/>).</summary>
    public bool MatchesAny(string header, bool weak)
    {
        foreach (var range in header.AsSpan().Split(','))
        {
            var tag = header.AsSpan(range).Trim();
            if (tag is "*" || Matches(tag, weak))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="header"/> is an HTTP date at or after <see cref="LastModified"/>; false also when it is no date.</summary>
    public bool NotModifiedSince(string header) => TryParseDate(header, out var date) && LastModified <= date;

    /// <summary>True when <paramref name="header"/> is an HTTP date before <see cref="LastModified"/>; false also when it is no date.</summary>
    public bool ModifiedSince(string header) => TryParseDate(header, out var date) && LastModified > date;

    /// <summary>
    /// True when an <c>If-Range</c> value still names this version: an equal strong tag, or exactly
    /// <see cref="LastModified"/>.
    /// </summary>
    public bool IfRangeHolds(string header)
    {
        var value = header.AsSpan().Trim();
        return value.StartsWith("\"", StringComparison.Ordinal) || value.StartsWith("W/", StringComparison.Ordinal)
            ? Matches(value, weak: false)
            : TryParseDate(header, out var date) && date == LastModified;
    }

    private bool Matches(ReadOnlySpan<char> tag, bool weak)
    {
        if (tag.StartsWith("W/", StringComparison.Ordinal))
        {
            if (!weak)
            {
                return false; // a weak tag never matches strongly
            }

            tag = tag[2..];
        }

        return tag.SequenceEqual(ETag);
    }

    private static bool TryParseDate(string text, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(text.Trim(), s_dateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out date);
}
