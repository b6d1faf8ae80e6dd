using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Typed client for the test control server's HTTP endpoints besides the control protocol: <c>/key</c>, the admin API
/// (<c>/admin/nodes</c>, <c>/admin/expire</c>, <c>/admin/filter</c>, <c>/admin/pending-auth</c>) and completing an
/// interactive login (<c>GET /auth/&lt;id&gt;</c>). A non-success answer throws <see cref="TestControlAdminException"/>
/// with the server's <c>{"error":"…"}</c> text. Every request is bounded (10 s) and logged.
/// </summary>
public sealed class TestControlAdmin : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly TestLog _log;

    /// <summary>Creates a client for the server at <paramref name="baseAddress"/>.</summary>
    public TestControlAdmin(Uri baseAddress, TestLog log)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = RequestTimeout };
        _log = log;
    }

    /// <summary><c>GET /key?v=N</c>: the server's machine keys (<c>mkey:…</c>).</summary>
    public async Task<ControlServerKeys> GetServerKeysAsync(int capabilityVersion = 56, CancellationToken cancellationToken = default)
    {
        var json = await SendAsync(HttpMethod.Get, "/key?v=" + capabilityVersion.ToString(CultureInfo.InvariantCulture), null, cancellationToken);
        using var document = JsonDocument.Parse(json);
        return new ControlServerKeys(
            document.RootElement.GetProperty("legacyPublicKey").GetString() ?? string.Empty,
            document.RootElement.GetProperty("publicKey").GetString() ?? string.Empty);
    }

    /// <summary><c>GET /admin/nodes</c>: every node the server knows.</summary>
    public async Task<IReadOnlyList<ControlNode>> GetNodesAsync(CancellationToken cancellationToken = default)
    {
        var json = await SendAsync(HttpMethod.Get, "/admin/nodes", null, cancellationToken);
        return JsonSerializer.Deserialize<List<ControlNode>>(json) ?? new List<ControlNode>();
    }

    /// <summary><c>DELETE /admin/nodes/&lt;nodekey&gt;</c>: removes the node from every netmap and closes its stream.</summary>
    /// <param name="nodeKey">The node key, <c>nodekey:&lt;hex&gt;</c> or bare hex.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task DeleteNodeAsync(string nodeKey, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, "/admin/nodes/" + Uri.EscapeDataString(nodeKey), null, cancellationToken);

    /// <summary><c>POST /admin/expire/&lt;nodekey&gt;[?at=…]</c>: sets the node's key expiry (default: a minute ago).</summary>
    public Task ExpireNodeAsync(string nodeKey, DateTimeOffset? at = null, CancellationToken cancellationToken = default)
    {
        var path = "/admin/expire/" + Uri.EscapeDataString(nodeKey);
        if (at is { } when)
        {
            path += "?at=" + Uri.EscapeDataString(when.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        }

        return SendAsync(HttpMethod.Post, path, null, cancellationToken);
    }

    /// <summary><c>GET /admin/filter</c>: the rules in force and whether they were set (<c>custom</c>) or are the allow-all default.</summary>
    public async Task<ControlFilter> GetFilterAsync(CancellationToken cancellationToken = default)
    {
        var json = await SendAsync(HttpMethod.Get, "/admin/filter", null, cancellationToken);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var custom = root.TryGetProperty("custom", out var customElement) && customElement.ValueKind == JsonValueKind.True;
        var rules = root.TryGetProperty("rules", out var rulesElement) ? rulesElement.GetRawText() : "null";
        return new ControlFilter(custom, rules);
    }

    /// <summary><c>POST /admin/filter</c>: replaces the filter (a JSON rule array as for <c>-filter</c>) and pushes it to every streaming node.</summary>
    public Task SetFilterAsync(string rulesJson, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "/admin/filter", rulesJson, cancellationToken);

    /// <summary><c>DELETE /admin/filter</c>: back to allow-all.</summary>
    public Task DeleteFilterAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, "/admin/filter", null, cancellationToken);

    /// <summary><c>GET /admin/pending-auth</c>: interactive logins not yet completed.</summary>
    public async Task<IReadOnlyList<PendingAuth>> GetPendingAuthAsync(CancellationToken cancellationToken = default)
    {
        var json = await SendAsync(HttpMethod.Get, "/admin/pending-auth", null, cancellationToken);
        return JsonSerializer.Deserialize<List<PendingAuth>>(json) ?? new List<PendingAuth>();
    }

    /// <summary><c>GET</c> of an interactive login's URL: completes that login. Returns the server's answer text.</summary>
    public Task<string> CompleteAuthAsync(string authUrl, CancellationToken cancellationToken = default)
    {
        var url = new Uri(authUrl, UriKind.Absolute);
        if (!string.Equals(url.Authority, _http.BaseAddress!.Authority, StringComparison.Ordinal))
        {
            throw new ArgumentException($"{authUrl} is not a URL of this server ({_http.BaseAddress})", nameof(authUrl));
        }

        return SendAsync(HttpMethod.Get, url.PathAndQuery, null, cancellationToken);
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    private async Task<string> SendAsync(HttpMethod method, string path, string? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        _log.Write($"[control admin] {method} {path} -> {(int)response.StatusCode} {ProcessRunner.Truncate(text.Trim())}");
        if (!response.IsSuccessStatusCode)
        {
            throw new TestControlAdminException(response.StatusCode, ErrorText(text), $"{method} {path}");
        }

        return text;
    }

    private static string ErrorText(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                return error.GetString() ?? body;
            }
        }
        catch (JsonException)
        {
        }

        return body.Trim();
    }
}

/// <summary>A failed admin API request: the HTTP status and the server's error text.</summary>
public sealed class TestControlAdminException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TestControlAdminException(HttpStatusCode statusCode, string error, string request)
        : base($"{request} failed with {(int)statusCode} {statusCode}: {error}")
    {
        StatusCode = statusCode;
        Error = error;
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The server's error text.</summary>
    public string Error { get; }
}

/// <summary>The answer of <c>/key?v=N</c>.</summary>
public sealed record ControlServerKeys(string LegacyPublicKey, string PublicKey);

/// <summary>The filter in force: <c>custom</c> false means the allow-all default; <paramref name="RulesJson"/> is the rule array.</summary>
public sealed record ControlFilter(bool Custom, string RulesJson);

/// <summary>An interactive login not yet completed.</summary>
public sealed record PendingAuth(string URL, string NodeKey, string Hostname);

/// <summary>One node of <c>GET /admin/nodes</c> (field names as the server sends them).</summary>
public sealed record ControlNode
{
    /// <summary>Node ID (its address is <c>100.64.0.ID</c>).</summary>
    public long ID { get; init; }

    /// <summary>MagicDNS name with trailing dot, e.g. <c>node1.tail.test.</c>.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary><c>nodekey:…</c>.</summary>
    public string NodeKey { get; init; } = string.Empty;

    /// <summary><c>mkey:…</c>.</summary>
    public string MachineKey { get; init; } = string.Empty;

    /// <summary><c>discokey:…</c> (zero until the node's first map request).</summary>
    public string DiscoKey { get; init; } = string.Empty;

    /// <summary>Addresses as prefixes (<c>100.64.0.1/32</c>, IPv6 /128).</summary>
    public IReadOnlyList<string> Addresses { get; init; } = Array.Empty<string>();

    /// <summary>UDP endpoints the node reported.</summary>
    public IReadOnlyList<string>? Endpoints { get; init; }

    /// <summary>Home DERP in the legacy form (<c>127.3.3.40:1</c>), empty before it reported one.</summary>
    public string DERP { get; init; } = string.Empty;

    /// <summary>True while the node holds a streaming map poll.</summary>
    public bool Online { get; init; }

    /// <summary>Open map streams.</summary>
    public int Streams { get; init; }

    /// <summary>Last time it was seen, when known.</summary>
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>Registered as ephemeral.</summary>
    public bool Ephemeral { get; init; }

    /// <summary>Key expiry, when set.</summary>
    public DateTimeOffset? KeyExpiry { get; init; }

    /// <summary>True when the key expiry has passed.</summary>
    public bool Expired { get; init; }

    /// <summary>The host name the node sent.</summary>
    public string Hostname { get; init; } = string.Empty;

    /// <summary>The node's OS.</summary>
    public string OS { get; init; } = string.Empty;

    /// <summary>Login name of its user.</summary>
    public string User { get; init; } = string.Empty;

    /// <summary>Its user's ID.</summary>
    public long UserID { get; init; }

    /// <summary>Registration time.</summary>
    public DateTimeOffset? Created { get; init; }
}
