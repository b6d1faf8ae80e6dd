using System.Net;
using System.Text.Json;

namespace TsNet.Tests.Facade;

/// <summary>Status a program can use: plain <see cref="JsonSerializer"/> writes keys and addresses as text and reads them back.</summary>
public sealed class StatusJsonTests
{
    [Fact]
    public void WireGuardKey_IsWgBase64Text_AndReadsBack()
    {
        var key = WireGuardKey.Generate().PublicKey;

        var json = JsonSerializer.Serialize(key);

        json.Should().Be("\"" + key.ToString() + "\"");
        JsonSerializer.Deserialize<WireGuardKey>(json).Should().Be(key);
        var invalid = () => JsonSerializer.Deserialize<WireGuardKey>("\"not-a-key\"");
        invalid.Should().Throw<JsonException>();
    }

    [Fact]
    public void DiscoKey_IsDiscokeyText_AndReadsBack()
    {
        var key = DiscoKey.Generate().PublicKey;

        var json = JsonSerializer.Serialize(key);

        json.Should().Be("\"discokey:" + Convert.ToHexStringLower(key.Bytes) + "\"");
        JsonSerializer.Deserialize<DiscoKey>(json).Should().Be(key);
    }

    [Fact]
    public async Task StatusOfARunningNode_RoundTripsThroughPlainJsonSerializer()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var a = await StartAsync("100.64.0.1", cts.Token);
        await using var b = await StartAsync("100.64.0.2", cts.Token);
        a.AddOrUpdatePeer(PeerOf(b, "bee"));
        b.AddOrUpdatePeer(PeerOf(a, "ay"));
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, AllowedIps = { IPNetwork.Parse("fd7a:115c:a1e0::9/128") } });
        await PingUntilAnsweredAsync(a, "100.64.0.2", cts.Token);
        // GetStatus gives the dataplane a bounded time to answer: wait (bounded) for an answer that shows the handshake.
        var status = a.GetStatus();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !status.Peers.Any(p => p.LastHandshake != null) && clock.Elapsed < TimeSpan.FromSeconds(15);)
        {
            await Task.Delay(20, cts.Token);
            status = a.GetStatus();
        }

        status.Peers.Should().Contain(p => p.LastHandshake != null && p.Endpoint != null, "the ping completed a handshake");

        var json = JsonSerializer.Serialize(status);
        var back = JsonSerializer.Deserialize<TailnetStatus>(json)!;

        using (var document = JsonDocument.Parse(json))
        {
            var root = document.RootElement;
            root.GetProperty("PublicKey").GetString().Should().Be(a.PublicKey.ToString(), "keys are wg's base64 text");
            root.GetProperty("Addresses")[0].GetString().Should().Be("100.64.0.1");
            var bee = root.GetProperty("Peers").EnumerateArray().Single(p => p.GetProperty("Name").GetString() == "bee");
            bee.GetProperty("Endpoint").GetString().Should().Be("127.0.0.1:" + b.ListenPort);
        }

        back.PublicKey.Should().Be(status.PublicKey);
        back.Addresses.Should().Equal(status.Addresses);
        back.ListenPort.Should().Be(status.ListenPort);
        back.Drops.Should().BeEquivalentTo(status.Drops);
        back.Fault.Should().Be(status.Fault);
        back.Peers.Should().HaveCount(status.Peers.Count);
        for (var i = 0; i < status.Peers.Count; i++)
        {
            var (expected, actual) = (status.Peers[i], back.Peers[i]);
            actual.PublicKey.Should().Be(expected.PublicKey);
            actual.Name.Should().Be(expected.Name);
            actual.Endpoint.Should().Be(expected.Endpoint);
            actual.LastHandshake.Should().Be(expected.LastHandshake);
            actual.RxBytes.Should().Be(expected.RxBytes);
            actual.TxBytes.Should().Be(expected.TxBytes);
            actual.SessionState.Should().Be(expected.SessionState);
        }
    }

    [Fact]
    public async Task PeerIdentity_RoundTripsThroughPlainJsonSerializer()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var a = await StartAsync("100.64.0.1", cts.Token);
        var peerKey = WireGuardKey.Generate().PublicKey;
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = peerKey, Name = "db", AllowedIps = { IPNetwork.Parse("100.64.0.7/32"), IPNetwork.Parse("fd7a:115c:a1e0::7/128") } });
        var identity = await a.WhoIsAsync(new IPEndPoint(IPAddress.Parse("100.64.0.7"), 5000), cts.Token);
        identity.Should().NotBeNull();

        var back = JsonSerializer.Deserialize<TailnetPeerIdentity>(JsonSerializer.Serialize(identity))!;

        back.NodeKey.Should().Be(peerKey);
        back.HostName.Should().Be("db");
        back.DnsName.Should().Be(identity!.DnsName);
        back.Addresses.Should().Equal(identity.Addresses);
        back.Tags.Should().Equal(identity.Tags);
    }

    private static async Task<TailnetServer> StartAsync(string address, CancellationToken cancellationToken)
    {
        var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse(address + "/32") },
        });
        await node.StartAsync(cancellationToken);
        return node;
    }

    private static TailnetPeer PeerOf(TailnetServer node, string name) => new()
    {
        PublicKey = node.PublicKey,
        Endpoint = "127.0.0.1:" + node.ListenPort,
        AllowedIps = { IPNetwork.Parse(node.Addresses[0] + "/32") },
        Name = name,
    };

    private static async Task PingUntilAnsweredAsync(TailnetServer node, string target, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await node.PingAsync(IPAddress.Parse(target), TimeSpan.FromSeconds(1), cancellationToken);
                return;
            }
            catch (TimeoutException) when (attempt < 20)
            {
                // Peers apply asynchronously; the first handshake may still be on its way.
            }
        }
    }
}
