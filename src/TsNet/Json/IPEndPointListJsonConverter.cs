using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Json;

/// <summary>A list of <see cref="IPEndPoint"/>s as a JSON array of their text (<c>["192.0.2.1:41641"]</c>).</summary>
internal sealed class IPEndPointListJsonConverter : JsonConverter<IReadOnlyList<IPEndPoint>>
{
    private static readonly IPEndPointJsonConverter s_endpoint = new();

    public override IReadOnlyList<IPEndPoint> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Endpoints are a JSON array of strings such as \"192.0.2.1:41641\".");
        }

        var endpoints = new List<IPEndPoint>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            endpoints.Add(s_endpoint.Read(ref reader, typeof(IPEndPoint), options));
        }

        return endpoints;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<IPEndPoint> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var endpoint in value)
        {
            s_endpoint.Write(writer, endpoint, options);
        }

        writer.WriteEndArray();
    }
}
