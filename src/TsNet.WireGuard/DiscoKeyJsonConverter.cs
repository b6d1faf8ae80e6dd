using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet;

/// <summary>Writes a <see cref="DiscoKey"/> as its <c>discokey:</c> text, and reads it back.</summary>
internal sealed class DiscoKeyJsonConverter : JsonConverter<DiscoKey>
{
    public override DiscoKey Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !DiscoKey.TryParse(reader.GetString(), out var key))
        {
            throw new JsonException("A disco key is a JSON string: 'discokey:' followed by 64 hex digits.");
        }

        return key;
    }

    public override void Write(Utf8JsonWriter writer, DiscoKey value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
