using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Json;

/// <summary>An <see cref="IPEndPoint"/> as its text (<c>192.0.2.1:51820</c>, <c>[2001:db8::1]:51820</c>).</summary>
internal sealed class IPEndPointJsonConverter : JsonConverter<IPEndPoint>
{
    public override IPEndPoint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && IPEndPoint.TryParse(reader.GetString() ?? string.Empty, out var endpoint)
            ? endpoint
            : throw new JsonException("An endpoint is a JSON string such as \"192.0.2.1:51820\".");

    public override void Write(Utf8JsonWriter writer, IPEndPoint value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
