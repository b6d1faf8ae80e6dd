using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TsNet.Control.Transport;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Registers a bare node with the test control server by hand (ts2021 + one register request, no map stream): a
/// cheap way to take node IDs, and so addresses <c>100.64.0.&lt;id&gt;</c>, before the nodes under test register.
/// </summary>
public static class ControlRegistrar
{
    /// <summary>Registers a new node key as <paramref name="hostname"/>; returns its <c>nodekey:</c> text.</summary>
    public static async Task<string> RegisterAsync(string controlUrl, string authKey, string hostname, CancellationToken cancellationToken)
    {
        var url = new Uri(controlUrl);
        using var http = new HttpClient();
        var keys = await ControlKeyClient.FetchAsync(http, url, 115, cancellationToken);
        await using var connection = await ControlConnection.ConnectAsync(
            new ControlConnectionOptions { ServerUrl = url, MachineKey = MachinePrivateKey.Generate(), ControlKey = keys.PublicKey, ProtocolVersion = 115 },
            cancellationToken);
        var nodeKey = "nodekey:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var json = JsonSerializer.Serialize(new
        {
            Version = 115,
            NodeKey = nodeKey,
            Auth = new { AuthKey = authKey },
            Hostinfo = new { Hostname = hostname, OS = "linux" },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/machine/register") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await connection.SendAsync(request, cancellationToken: cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK || !body.Contains("\"MachineAuthorized\":true", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"registering {hostname} failed: {(int)response.StatusCode} {body}");
        }

        return nodeKey;
    }
}
