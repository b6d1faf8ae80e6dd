using System.Globalization;
using System.Net;
using System.Text.Json;

namespace TsNet.Control.Transport;

/// <summary>
/// <c>GET /key?v=N</c> (protocol doc §4): the server's Noise public key, over ordinary HTTP(S) before any Noise.
/// </summary>
internal static class ControlKeyClient
{
    /// <summary>The Go client reads at most this much.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    /// <summary>The server's keys as <c>/key</c> answered.</summary>
    /// <param name="PublicKey">The Noise static key of the server (required, non-zero).</param>
    /// <param name="LegacyPublicKey">The old NaCl-box key (ignored by ts2021; zero from new servers).</param>
    public sealed record ServerKeys(MachinePublicKey PublicKey, MachinePublicKey LegacyPublicKey);

    /// <exception cref="ControlTransportException">Non-200, oversized, not JSON, or no usable <c>publicKey</c>.</exception>
    public static async Task<ServerKeys> FetchAsync(HttpMessageInvoker http, Uri serverUrl, int capabilityVersion, CancellationToken cancellationToken = default)
    {
        var url = new Uri(serverUrl, "/key?v=" + capabilityVersion.ToString(CultureInfo.InvariantCulture));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        byte[] body = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ControlTransportException($"control server answered {url} with HTTP {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body).Trim()}");
        }

        return Parse(body);
    }

    /// <summary>Parses <c>{"legacyPublicKey":"mkey:…","publicKey":"mkey:…"}</c>.</summary>
    /// <exception cref="ControlTransportException">Not UTF-8, not that JSON, or <c>publicKey</c> missing, malformed or zero.</exception>
    public static ServerKeys Parse(ReadOnlySpan<byte> json)
    {
        // The JSON reader checks structure, not the UTF-8 inside strings: that surfaces later as an
        // InvalidOperationException when a name or value is read (found by the fuzz command).
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new ControlTransportException("/key answer is not valid UTF-8");
        }

        string? publicText = null;
        string? legacyText = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ControlTransportException("/key answer is not a JSON object");
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                // Go decodes field names case-insensitively.
                if (property.Name.Equals("publicKey", StringComparison.OrdinalIgnoreCase))
                {
                    publicText = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                }
                else if (property.Name.Equals("legacyPublicKey", StringComparison.OrdinalIgnoreCase))
                {
                    legacyText = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                }
            }
        }
        catch (JsonException exception)
        {
            throw new ControlTransportException("/key answer is not JSON (a server too old for ts2021?)", exception);
        }

        if (!MachinePublicKey.TryParse(publicText, out var publicKey) || publicKey.IsZero)
        {
            throw new ControlTransportException($"/key answer has no usable publicKey ({(publicText is null ? "missing" : "\"" + publicText + "\"")})");
        }

        MachinePublicKey legacy = MachinePublicKey.TryParse(legacyText, out var parsedLegacy) ? parsedLegacy : default;
        return new ServerKeys(publicKey, legacy);
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = new byte[MaxResponseBytes + 1];
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        if (total > MaxResponseBytes)
        {
            throw new ControlTransportException($"/key answer exceeds {MaxResponseBytes} bytes");
        }

        return buffer.AsSpan(0, total).ToArray();
    }
}
