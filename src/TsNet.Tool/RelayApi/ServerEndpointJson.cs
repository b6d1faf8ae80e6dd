using System.Text.Json;

namespace TsNet.Tool.RelayApi;

/// <summary>
/// A <see cref="RelayEndpoint"/> as the JSON of tailscale's <c>endpoint.ServerEndpoint</c> (Go field names, no tags):
/// <c>ServerDisco</c> and <c>ClientDisco</c> as <c>discokey:</c> text, <c>LamportID</c> and <c>VNI</c> as numbers,
/// <c>AddrPorts</c> as <c>ip:port</c> strings (IPv6 in brackets) and the lifetimes as Go duration strings. Like Go's
/// <c>json.Encoder</c>, the document ends with a newline.
/// </summary>
internal static class ServerEndpointJson
{
    /// <summary>The UTF-8 JSON document for <paramref name="endpoint"/>.</summary>
    public static byte[] Serialize(RelayEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("ServerDisco", endpoint.ServerDisco.ToString());
            writer.WriteStartArray("ClientDisco");
            foreach (var client in endpoint.ClientDisco)
            {
                writer.WriteStringValue(client.ToString());
            }

            writer.WriteEndArray();
            writer.WriteNumber("LamportID", endpoint.LamportId);
            writer.WriteStartArray("AddrPorts");
            foreach (var address in endpoint.AddressPorts)
            {
                // IPEndPoint prints IPv6 in brackets like netip.AddrPort.
                writer.WriteStringValue(address.ToString());
            }

            writer.WriteEndArray();
            writer.WriteNumber("VNI", endpoint.Vni);
            writer.WriteString("BindLifetime", GoDuration.Format(endpoint.BindLifetime));
            writer.WriteString("SteadyStateLifetime", GoDuration.Format(endpoint.SteadyStateLifetime));
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
