using System.Text;
using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Transport;

public class ControlUpgradeTests
{
    private static PrefixReader Reader(string text) => new(new MemoryStream(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Request_HasTheUpgradeHeadersAndBase64Initiation()
    {
        string request = Encoding.ASCII.GetString(ControlUpgrade.BuildRequest("control.example.com:8080", new byte[101]));

        request.Should().StartWith("POST /ts2021 HTTP/1.1\r\nHost: control.example.com:8080\r\n");
        request.Should().Contain("\r\nUpgrade: tailscale-control-protocol\r\nConnection: upgrade\r\n");
        request.Should().Contain($"\r\nX-Tailscale-Handshake: {Convert.ToBase64String(new byte[101])}\r\n");
        Convert.ToBase64String(new byte[101]).Should().HaveLength(136).And.EndWith("=").And.NotEndWith("==");
        request.Should().EndWith("Content-Length: 0\r\n\r\n");
    }

    [Fact]
    public async Task SwitchingProtocols_LeavesFollowingBytesForTheNoiseReader()
    {
        var reader = Reader("HTTP/1.1 101 Switching Protocols\r\nupgrade: tailscale-control-protocol\r\nConnection: upgrade\r\n\r\n\x02\x00\x30");

        await ControlUpgrade.ReadResponseAsync(reader, CancellationToken.None);

        reader.Remaining.ToArray().Should().Equal(0x02, 0x00, 0x30);
    }

    [Theory]
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 21\r\n\r\nmissing next protocol", "*HTTP 400 Bad Request: missing next protocol*")]
    [InlineData("HTTP/1.1 500 Internal Server Error\r\n\r\n", "*HTTP 500*")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "*websocket*")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\n\r\n", "*expected*")]
    [InlineData("SSH-2.0-OpenSSH\r\n\r\n", "*malformed status line*")]
    [InlineData("", "*without answering*")]
    [InlineData("HTTP/1.1 101 Swi", "*middle of the upgrade response*")]
    public async Task BadAnswers_ThrowProtocolException(string answer, string message)
        => await FluentActions.Invoking(() => ControlUpgrade.ReadResponseAsync(Reader(answer), CancellationToken.None).AsTask())
            .Should().ThrowAsync<ControlTransportException>().WithMessage(message);

    [Fact]
    public async Task EndlessHeaders_AreRefusedBounded()
    {
        string answer = "HTTP/1.1 101 Switching Protocols\r\n" + string.Concat(Enumerable.Repeat("X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 2000));

        await FluentActions.Invoking(() => ControlUpgrade.ReadResponseAsync(Reader(answer), CancellationToken.None).AsTask())
            .Should().ThrowAsync<ControlTransportException>().WithMessage("*exceed*");
    }
}
