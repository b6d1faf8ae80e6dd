using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// A string field whose values are mostly a few well-known ones (a peer's OS, a service's protocol): those read as one
/// shared instance instead of a new string per node (a 10 000-peer map holds them ten thousand times); anything else
/// reads as usual. Written as any string.
/// </summary>
internal sealed class KnownStringJsonConverter : JsonConverter<string?>
{
    // Hostinfo.OS values of the Go client and HostService.Proto values (protocol doc §8.5).
    private static readonly string[] Known =
    [
        "linux", "windows", "macOS", "iOS", "tvOS", "android", "freebsd", "openbsd", "illumos", "js", "plan9",
        "tcp", "udp", "peerapi4", "peerapi6", "peerapi-dns-proxy",
    ];

    private static readonly byte[][] KnownUtf8 = [.. Known.Select(System.Text.Encoding.UTF8.GetBytes)];

    /// <inheritdoc />
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            var value = reader.ValueSpan;
            for (var i = 0; i < KnownUtf8.Length; i++)
            {
                if (value.SequenceEqual(KnownUtf8[i]))
                {
                    return Known[i];
                }
            }
        }

        return reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new JsonException("Expected a string.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
