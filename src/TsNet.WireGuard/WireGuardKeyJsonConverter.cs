using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet;

/// <summary>Writes a <see cref="WireGuardKey"/> as the base64 text <c>wg</c> prints, and reads it back.</summary>
internal sealed class WireGuardKeyJsonConverter : JsonConverter<WireGuardKey>
{
    public override WireGuardKey Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !WireGuardKey.TryParse(reader.GetString(), out var key))
        {
            throw new JsonException("A WireGuard key is a JSON string of 32 bytes in base64 (44 characters ending in '=').");
        }

        return key;
    }

    // Raw: the base64 alphabet needs no JSON escaping, and the default encoder would write '+' as \u002B, which is
    // not the text wg prints (nor what a grep for the key finds).
    public override void Write(Utf8JsonWriter writer, WireGuardKey value, JsonSerializerOptions options) =>
        writer.WriteRawValue("\"" + value.ToString() + "\"", skipInputValidation: true);
}
