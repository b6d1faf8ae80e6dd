using System.Text.Json;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Netmap;

/// <summary>Map messages for the folder tests, written as the server would send them.</summary>
internal static class NetmapJson
{
    public static MapResponse Map(string json) => JsonSerializer.Deserialize(json, ControlJsonContext.Default.MapResponse)!;

    public static Node Node(string json) => JsonSerializer.Deserialize(json, ControlJsonContext.Default.Node)!;

    /// <summary>A node key in text form with every byte <paramref name="fill"/>.</summary>
    public static string NodeKey(byte fill) => "nodekey:" + Convert.ToHexStringLower(Enumerable.Repeat(fill, 32).ToArray());

    public static WireGuardKey Key(byte fill) => new(Enumerable.Repeat(fill, 32).ToArray());

    /// <summary>A peer as the Go test server sends it (legacy DERP string, zero key expiry).</summary>
    public static string Peer(long id, byte key, string name, int address, string extra = "") =>
        $$"""
        {"ID":{{id}},"Name":"{{name}}","User":{{id}},"Key":"{{NodeKey(key)}}",
         "DiscoKey":"discokey:{{new string('d', 64)}}","KeyExpiry":"0001-01-01T00:00:00Z",
         "Addresses":["100.64.0.{{address}}/32","fd7a:115c:a1e0:ab12:4843:cd96:6240:{{address}}/128"],
         "Endpoints":["192.0.2.{{address}}:41641"],"DERP":"127.3.3.40:1","Online":true{{extra}}}
        """;

    public const string Self = """
        {"ID":1,"Name":"self.tailnet.example.","User":1,"Key":"nodekey:0101010101010101010101010101010101010101010101010101010101010101",
         "Addresses":["100.64.0.1/32","fd7a:115c:a1e0:ab12:4843:cd96:6240:1/128"],"KeyExpiry":"2030-01-01T00:00:00Z"}
        """;

    public static string Users(params long[] ids) =>
        "[" + string.Join(",", ids.Select(id => $$"""{"ID":{{id}},"LoginName":"user-{{id}}@fake-control.example.net","DisplayName":"User {{id}}"}""")) + "]";
}
