using System.Text.Json;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Protocol;

/// <summary>
/// The JSON readers that save allocations in large maps (times read without a string, well-known strings shared)
/// read exactly what the plain readers did, escaped text and errors included.
/// </summary>
public sealed class NodeJsonAllocationTests
{
    private static Node Node(string json) => JsonSerializer.Deserialize(json, ControlJsonContext.Default.Node)!;

    [Theory]
    [InlineData("\"2025-07-29T18:31:27.550535802Z\"", "2025-07-29T18:31:27.5505358+00:00")]
    [InlineData("\"\\u0032025-07-29T18:31:27Z\"", "2025-07-29T18:31:27.0000000+00:00")]
    [InlineData("\"2025-07-29T20:31:27.5+02:00\"", "2025-07-29T20:31:27.5000000+02:00")]
    public void Times_ReadAsBefore_EscapedTextToo(string json, string expected) =>
        Node($$"""{"KeyExpiry":{{json}}}""").KeyExpiry!.Value.ToString("o", System.Globalization.CultureInfo.InvariantCulture).Should().Be(expected);

    [Theory]
    [InlineData("\"2025-07-29T18:31:27\"")]
    [InlineData("\"\"")]
    [InlineData("12")]
    public void BadTimes_AreStillRefused(string json)
    {
        var act = () => Node($$"""{"KeyExpiry":{{json}}}""");

        act.Should().Throw<JsonException>();
    }

    [Fact]
    public void ALongBadTime_IsRefused_WithAShortMessage()
    {
        var act = () => Node($$"""{"KeyExpiry":"{{new string('9', 500)}}"}""");

        act.Should().Throw<JsonException>().Which.Message.Length.Should().BeLessThan(300);
    }

    [Fact]
    public void KnownStrings_AreOneInstance_OthersReadAsSent()
    {
        const string Json = """{"Hostinfo":{"OS":"linux","Services":[{"Proto":"peerapi4","Port":1},{"Proto":"custom","Port":2}]}}""";
        var first = Node(Json).Hostinfo!;
        var second = Node(Json).Hostinfo!;
        var escaped = Node("""{"Hostinfo":{"OS":"l\u0069nux"}}""").Hostinfo!;

        first.OS.Should().Be("linux").And.BeSameAs(second.OS);
        first.Services![0].Proto.Should().Be("peerapi4").And.BeSameAs(second.Services![0].Proto);
        first.Services[1].Proto.Should().Be("custom");
        escaped.OS.Should().Be("linux");
        Node("""{"Hostinfo":{"OS":null}}""").Hostinfo!.OS.Should().BeNull();
        var act = () => Node("""{"Hostinfo":{"OS":5}}""");
        act.Should().Throw<JsonException>();
    }

    [Fact]
    public void Hostinfo_WritesAsBefore()
    {
        var hostinfo = new Hostinfo { OS = "linux", Hostname = "web", Services = [new HostService { Proto = "tcp", Port = 80 }] };

        JsonSerializer.Serialize(hostinfo, ControlJsonContext.Default.Hostinfo)
            .Should().Be("""{"OS":"linux","Hostname":"web","Services":[{"Proto":"tcp","Port":80}]}""");
    }
}
