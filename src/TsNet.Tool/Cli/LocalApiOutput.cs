using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using TsNet.Tool.LocalApi;

namespace TsNet.Tool.Cli;

/// <summary>How <c>tsnet status</c>, <c>ping</c> and <c>whois</c> print what the node answered.</summary>
internal static class LocalApiOutput
{
    /// <summary>
    /// The <c>tsnet status</c> table: the node first (path <c>self</c>), then one row per peer: name, addresses, path,
    /// last handshake (relative to <paramref name="now"/>), rx and tx bytes.
    /// </summary>
    public static string Status(TailnetStatus status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(status);
        IReadOnlyList<string> self =
        [
            status.DnsName is { } dns ? dns.Split('.')[0] : "-",
            Addresses(status.Addresses),
            "self",
            "-",
            "-",
            "-",
        ];
        var peers = status.Peers.Select(p => (IReadOnlyList<string>)
        [
            LocalApiRequestHandler.PeerName(p),
            Addresses(p.Addresses),
            p.Path ?? (p.Endpoint is { } endpoint ? "direct " + endpoint : "-"),
            p.LastHandshake is { } at ? StatusTable.Ago(now - at) : "never",
            p.RxBytes.ToString(CultureInfo.InvariantCulture),
            p.TxBytes.ToString(CultureInfo.InvariantCulture),
        ]);
        var text = TextTable.Format(["name", "addresses", "path", "last handshake", "rx bytes", "tx bytes"], [self, .. peers]);
        return status.Fault is { } fault ? text + "fault: " + fault + "\n" : text;
    }

    /// <summary>api.md's line for one reply: <c>pong from NAME (IP) via PATH in MS ms</c>.</summary>
    public static string PongLine(PingReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return string.Create(CultureInfo.InvariantCulture, $"pong from {reply.Name} ({reply.Address}) via {reply.Path} in {reply.Milliseconds:0.0} ms");
    }

    /// <summary><c>tsnet whois</c>'s <c>key: value</c> lines; <c>-</c> for what the node does not know.</summary>
    public static string WhoIsLines(TailnetPeerIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var text = new StringBuilder();
        void Line(string key, string? value) => text.Append(key).Append(": ").Append(string.IsNullOrEmpty(value) ? "-" : value).Append('\n');
        Line("name", identity.DnsName);
        Line("host", identity.HostName);
        Line("node key", identity.NodeKey.ToString());
        Line("addresses", Addresses(identity.Addresses));
        Line("tags", string.Join(", ", identity.Tags));
        Line("user", identity.UserLoginName);
        Line("user name", identity.UserDisplayName);
        return text.ToString();
    }

    /// <summary>A JSON value indented for people (and still one JSON document for <c>jq</c>), with a final newline.</summary>
    public static string IndentedJson(JsonElement value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            value.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string Addresses(IReadOnlyList<System.Net.IPAddress> addresses) => addresses.Count == 0 ? "-" : string.Join(", ", addresses);
}
