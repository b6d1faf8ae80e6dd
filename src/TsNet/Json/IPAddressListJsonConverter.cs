using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Json;

/// <summary>A list of <see cref="IPAddress"/> as a JSON array of their texts (a property converter applies to the list, not its items).</summary>
internal sealed class IPAddressListJsonConverter : JsonConverter<IReadOnlyList<IPAddress>>
{
    private static readonly IPAddressJsonConverter s_item = new();

    public override IReadOnlyList<IPAddress> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("A list of IP addresses is a JSON array of strings.");
        }

        var addresses = new List<IPAddress>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            addresses.Add(s_item.Read(ref reader, typeof(IPAddress), options));
        }

        return addresses;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<IPAddress> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var address in value)
        {
            s_item.Write(writer, address, options);
        }

        writer.WriteEndArray();
    }
}
