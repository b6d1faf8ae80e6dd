using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace TsNet.Tool.RelayApi;

/// <summary>
/// The meaning of tailscale's pre-capability-121 PeerAPI allocation call (protocol notes §3.2), without the HTTP
/// plumbing: <c>POST /v0/relay/endpoint</c> with <c>{"DiscoKeys": ["discokey:…", "discokey:…"]}</c> (at most
/// <see cref="MaxBodyBytes"/> bytes, exactly two keys) allocates — or returns the pair's existing — endpoint on the
/// relay and answers its <c>ServerEndpoint</c> JSON. Other paths get 404, other methods 405, bad JSON or keys 400, a
/// relay without candidate addresses 503 with <c>Retry-After</c>.
/// </summary>
internal sealed class RelayAllocationHandler
{
    /// <summary>The only path served.</summary>
    public const string Path = "/v0/relay/endpoint";

    /// <summary>The largest request body read (tailscale reads at most 512 bytes: two keys need about 170).</summary>
    public const int MaxBodyBytes = 512;

    // The request is one flat object holding one array: anything deeper is not a request.
    private static readonly JsonDocumentOptions s_jsonOptions = new() { MaxDepth = 4 };

    private readonly UdpRelayServer _relay;
    private readonly ILogger _logger;

    /// <summary>A handler allocating on <paramref name="relay"/>.</summary>
    public RelayAllocationHandler(UdpRelayServer relay, ILogger logger)
    {
        _relay = relay;
        _logger = logger;
    }

    /// <summary>The answer decided by the request line alone (404, 405), or null when the body is wanted.</summary>
    public static RelayAllocationResponse? CheckRequestLine(string method, string target)
    {
        var path = target.Split('?', 2)[0];
        if (path != Path)
        {
            return RelayAllocationResponse.Error(404, "404 page not found");
        }

        return method == "POST" ? null : RelayAllocationResponse.Error(405, "only POST method is allowed", new KeyValuePair<string, string>("Allow", "POST"));
    }

    /// <summary>Allocates for the request body <paramref name="body"/> (at most <see cref="MaxBodyBytes"/>).</summary>
    public RelayAllocationResponse Allocate(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxBodyBytes)
        {
            return RelayAllocationResponse.Error(413, $"request body larger than {MaxBodyBytes} bytes");
        }

        if (!TryParseRequest(body, out var a, out var b, out var problem))
        {
            return RelayAllocationResponse.Error(400, problem);
        }

        try
        {
            var endpoint = _relay.AllocateEndpoint(a, b);
            RelayApiLog.Allocated(_logger, endpoint.Vni, endpoint.LamportId);
            return RelayAllocationResponse.Json(ServerEndpointJson.Serialize(endpoint));
        }
        catch (UdpRelayServerNotReadyException e)
        {
            var seconds = Math.Max(1, (long)Math.Round(e.RetryAfter.TotalSeconds, MidpointRounding.AwayFromZero));
            return RelayAllocationResponse.Error(503, e.Message, new KeyValuePair<string, string>("Retry-After", seconds.ToString(CultureInfo.InvariantCulture)));
        }
        catch (ArgumentException e)
        {
            return RelayAllocationResponse.Error(400, e.Message);
        }
        catch (ObjectDisposedException)
        {
            return RelayAllocationResponse.Error(503, "the relay server is stopping");
        }
        catch (InvalidOperationException e)
        {
            return RelayAllocationResponse.Error(500, e.Message);
        }
    }

    // Go's encoding/json semantics where they matter: field names match case-insensitively, unknown fields are
    // ignored, the last duplicate wins; keys need tailscale's text form with its prefix.
    private static bool TryParseRequest(ReadOnlySpan<byte> body, out DiscoKey a, out DiscoKey b, out string problem)
    {
        a = default;
        b = default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), s_jsonOptions);
        }
        catch (JsonException e)
        {
            problem = "invalid JSON: " + e.Message;
            return false;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = "the request must be a JSON object";
                return false;
            }

            JsonElement? keys = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (string.Equals(property.Name, "DiscoKeys", StringComparison.OrdinalIgnoreCase))
                {
                    keys = property.Value;
                }
            }

            if (keys is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() != 2)
            {
                problem = "2 disco public keys must be supplied";
                return false;
            }

            if (!TryParseKey(array[0], out a) || !TryParseKey(array[1], out b))
            {
                problem = "DiscoKeys: each key must be \"discokey:\" followed by 64 hex digits";
                return false;
            }
        }

        problem = string.Empty;
        return true;
    }

    private static bool TryParseKey(JsonElement element, out DiscoKey key)
    {
        key = default;
        return element.ValueKind == JsonValueKind.String
            && element.GetString() is { } text
            && text.StartsWith(DiscoKey.TextPrefix, StringComparison.Ordinal)
            && text.Length == DiscoKey.TextPrefix.Length + (2 * DiscoKey.Size)
            && DiscoKey.TryParse(text, out key);
    }
}
