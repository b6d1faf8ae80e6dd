using System.Net;
using System.Text.Json;
using TsNet.Tool.Cli;
using TsNet.Tool.LocalApi;

namespace TsNet.Tests.Tool;

/// <summary>
/// What <c>tsnet status</c>/<c>ping</c>/<c>whois</c> print, the local API's socket path rule, its request syntax and
/// answer lines, and the library's source-generated JSON they rely on.
/// </summary>
public sealed class LocalApiFormatTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly WireGuardKey SelfKey = WireGuardKey.Generate().PublicKey;
    private static readonly WireGuardKey DbKey = WireGuardKey.Generate().PublicKey;
    private static readonly WireGuardKey WebKey = WireGuardKey.Generate().PublicKey;

    private static TailnetStatus SampleStatus() => new(
        SelfKey,
        [IPAddress.Parse("100.64.0.5"), IPAddress.Parse("fd7a:115c:a1e0::5")],
        41641,
        [
            new TailnetPeerStatus(DbKey, "db", new IPEndPoint(IPAddress.Parse("192.0.2.7"), 41641), Now.AddSeconds(-3.2), 1200, 3400, "established")
            {
                DnsName = "db.tail.test", Addresses = [IPAddress.Parse("100.64.0.9")], Path = "direct 192.0.2.7:41641",
            },
            new TailnetPeerStatus(WebKey, null, null, null, 0, 0, "none") { DnsName = "web.tail.test", Addresses = [IPAddress.Parse("100.64.0.10")], Path = "derp fra" },
        ],
        new Dictionary<string, long>())
    {
        DnsName = "cli1.tail.test",
    };

    [Fact]
    public void StatusTable_SelfFirst_ThenPeersWithPathHandshakeAndBytes()
    {
        var text = LocalApiOutput.Status(SampleStatus(), Now);

        text.Should().Be(
            "name  addresses                      path                    last handshake  rx bytes  tx bytes\n" +
            "cli1  100.64.0.5, fd7a:115c:a1e0::5  self                    -               -         -\n" +
            "db    100.64.0.9                     direct 192.0.2.7:41641  3.2 s ago       1200      3400\n" +
            "web   100.64.0.10                    derp fra                never           0         0\n");
    }

    [Fact]
    public void PongLine_HasTheApiForm()
    {
        LocalApiOutput.PongLine(new PingReply("db", "100.64.0.9", "direct 192.0.2.7:41641", 12.345))
            .Should().Be("pong from db (100.64.0.9) via direct 192.0.2.7:41641 in 12.3 ms");
    }

    [Fact]
    public void WhoIsLines_KeyValue_DashForUnknown()
    {
        var identity = new TailnetPeerIdentity("db.tail.test", "db", DbKey, [IPAddress.Parse("100.64.0.9"), IPAddress.Parse("fd7a:115c:a1e0::9")], ["tag:db"], "db@example.com", null);

        LocalApiOutput.WhoIsLines(identity).Should().Be(
            "name: db.tail.test\n" +
            "host: db\n" +
            $"node key: {DbKey}\n" +
            "addresses: 100.64.0.9, fd7a:115c:a1e0::9\n" +
            "tags: tag:db\n" +
            "user: db@example.com\n" +
            "user name: -\n");
    }

    [Fact]
    public void TailnetJson_RoundTripsStatus_AsPlainJsonSerializerWritesIt()
    {
        var status = SampleStatus();

        var json = JsonSerializer.Serialize(status, TailnetJson.Status);
        var back = JsonSerializer.Deserialize(json, TailnetJson.Status)!;

        using (var document = JsonDocument.Parse(json))
        {
            document.RootElement.GetProperty("PublicKey").GetString().Should().Be(SelfKey.ToString(), "keys are wg's base64 text");
        }

        json.Should().Contain("\"Addresses\":[\"100.64.0.5\",\"fd7a:115c:a1e0::5\"]");
        back.PublicKey.Should().Be(SelfKey);
        back.DnsName.Should().Be("cli1.tail.test");
        back.Peers.Should().HaveCount(2);
        back.Peers[0].Path.Should().Be("direct 192.0.2.7:41641");
        back.Peers[0].Endpoint.Should().Be(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 41641));
        back.Peers[1].Addresses.Should().Equal(IPAddress.Parse("100.64.0.10"));
    }

    [Fact]
    public void AnswerLine_ParsesBack_AndIndentedJsonIsUnescaped()
    {
        var line = LocalApiAnswerWriter.Line(LocalApiAnswerKind.Status, SampleStatus(), TailnetJson.Status);

        line[^1].Should().Be((byte)'\n');
        line[..^1].Should().NotContain((byte)'\n', "one answer is one line");
        var answer = LocalApiAnswer.Parse(System.Text.Encoding.UTF8.GetString(line));
        answer.Kind.Should().Be(LocalApiAnswerKind.Status);
        LocalApiOutput.IndentedJson(answer.Value).Should().Contain($"\"PublicKey\": \"{SelfKey}\"", "a base64 key shows as wg prints it (no \\u002B)");
        LocalApiAnswer.Parse("{\"noReply\":\"timed out\"}").Text.Should().Be("timed out");
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{\"a\":1,\"b\":2}")]
    [InlineData("{}")]
    [InlineData("not json")]
    public void AnswerLine_OtherShapes_AreRejected(string line)
    {
        var parse = () => LocalApiAnswer.Parse(line);

        parse.Should().Throw<InvalidDataException>();
    }

    [Theory]
    [InlineData("/s/x.sock", "/state", "/xdg", "/s/x.sock")]
    [InlineData(null, "/state", "/xdg", "/state/tsnet.sock")]
    [InlineData(null, null, "/xdg", "/xdg/tsnet.sock")]
    [InlineData(null, null, "relative", "/run/tsnet/tsnet.sock")]
    [InlineData(null, null, "", "/run/tsnet/tsnet.sock")]
    [InlineData(null, null, null, "/run/tsnet/tsnet.sock")]
    public void SocketPath_SocketThenStateThenXdgThenRun(string? socket, string? state, string? xdg, string expected)
    {
        LocalApiSocketPath.Resolve(socket, state, name => name == "XDG_RUNTIME_DIR" ? xdg : null).Should().Be(expected);
    }

    [Theory]
    [InlineData("100.64.0.9", "100.64.0.9:0")]
    [InlineData("100.64.0.9:80", "100.64.0.9:80")]
    [InlineData("fd7a:115c:a1e0::9", "[fd7a:115c:a1e0::9]:0")]
    [InlineData("[fd7a:115c:a1e0::9]:443", "[fd7a:115c:a1e0::9]:443")]
    [InlineData("[fd7a:115c:a1e0::9]", "[fd7a:115c:a1e0::9]:0")]
    public void WhoIsTarget_IpOrIpPort(string text, string expected)
    {
        LocalApiProtocol.TryParseWhoIsTarget(text, out var endpoint).Should().BeTrue();
        endpoint.ToString().Should().Be(expected);
    }

    [Theory]
    [InlineData("db")]
    [InlineData("100.64.0.9:99999")]
    [InlineData("fe80::1%2")]
    [InlineData("")]
    public void WhoIsTarget_OtherTexts_AreRejected(string text)
    {
        LocalApiProtocol.TryParseWhoIsTarget(text, out _).Should().BeFalse();
    }

    [Fact]
    public void PingTarget_ByNameDnsNameOrAddress()
    {
        var status = SampleStatus();

        LocalApiRequestHandler.ResolvePingTarget(status, "DB").Address.Should().Be(IPAddress.Parse("100.64.0.9"));
        LocalApiRequestHandler.ResolvePingTarget(status, "web").Address.Should().Be(IPAddress.Parse("100.64.0.10"), "the DNS name's first label names a peer without a configured name");
        LocalApiRequestHandler.ResolvePingTarget(status, "web.tail.test.").Peer!.PublicKey.Should().Be(WebKey);
        LocalApiRequestHandler.ResolvePingTarget(status, "100.64.0.10").Peer!.PublicKey.Should().Be(WebKey);
        LocalApiRequestHandler.ResolvePingTarget(status, "nosuch").Problem.Should().Be("'nosuch' is neither an IP address nor the name of a peer (peers: db, web)");
    }
}
