using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// Go's <c>time.Time</c> in JSON: RFC 3339 with a zone and up to nine fractional digits (the server's nanoseconds
/// are cut to .NET's 100 ns ticks). <c>null</c> reads as null (Go: unchanged); a time without a zone or the empty
/// string is an error, as in Go. Go's zero time <c>0001-01-01T00:00:00Z</c> reads as <see cref="DateTimeOffset.MinValue"/>;
/// <see cref="IsZero"/> tells it (a key expiry of zero means none).
/// </summary>
internal sealed class GoTimeJsonConverter : JsonConverter<DateTimeOffset?>
{
    private const int MaxTextLength = 64;

    /// <inheritdoc />
    public override bool HandleNull => true;

    /// <summary>True for null and for Go's zero time.</summary>
    public static bool IsZero(DateTimeOffset? time) => time is null || time.Value == DateTimeOffset.MinValue;

    /// <summary>Parses an RFC 3339 time with a zone; false for anything else.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset time)
    {
        time = default;
        if (text.Length is < 20 or > MaxTextLength || text[10] is not ('T' or 't'))
        {
            return false;
        }

        // Go writes up to 9 fractional digits; .NET parses at most 7: drop the rest (sub-tick precision).
        Span<char> trimmed = stackalloc char[MaxTextLength];
        var length = 0;
        var digits = 0;
        var inFraction = false;
        foreach (var c in text)
        {
            if (c == '.' && length == 19)
            {
                inFraction = true;
            }
            else if (inFraction && char.IsAsciiDigit(c))
            {
                if (++digits > 7)
                {
                    continue;
                }
            }
            else
            {
                inFraction = false;
            }

            trimmed[length++] = c;
        }

        var last = trimmed[length - 1];
        var hasZone = last is 'Z' or 'z' || (length >= 6 && trimmed[length - 3] == ':' && trimmed[length - 6] is '+' or '-');
        return hasZone && DateTimeOffset.TryParse(
            trimmed[..length], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out time);
    }

    /// <summary>Go's form: UTC with <c>Z</c>, fractional seconds only when there are any.</summary>
    public static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A time must be an RFC 3339 string.");
        }

        // Read without a string (a 10 000-peer map has two times per node): a valid time is short, and its text is
        // never longer in UTF-16 than its bytes in the JSON. Longer text takes the string path to its error.
        var byteLength = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (byteLength <= MaxTextLength)
        {
            Span<char> chars = stackalloc char[MaxTextLength];
            var written = reader.CopyString(chars);
            return TryParse(chars[..written], out var parsed)
                ? parsed
                : throw new JsonException($"'{Shorten(chars[..written].ToString())}' is not an RFC 3339 time with a zone.");
        }

        var text = reader.GetString();
        return TryParse(text, out var time)
            ? time
            : throw new JsonException($"'{Shorten(text)}' is not an RFC 3339 time with a zone.");
    }

    // Error text from a server is bounded: a huge bogus value must not become a huge exception message.
    private static string Shorten(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..80] + "…";

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(Format(value.Value));
        }
    }
}
