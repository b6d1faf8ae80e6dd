using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Json;

/// <summary>An <see cref="IPAddress"/> as its text (<c>100.64.0.2</c>, <c>fd7a:115c:a1e0::2</c>).</summary>
internal sealed class IPAddressJsonConverter : JsonConverter<IPAddress>
{
    public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && IPAddress.TryParse(reader.GetString(), out var address)
            ? address
            : throw new JsonException("An IP address is a JSON string such as \"100.64.0.2\".");

    public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
