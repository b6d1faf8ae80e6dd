using System.Net;
using System.Text;
using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Transport;

public class ControlKeyClientTests
{
    private const string Key = "mkey:79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a";
    private const string Zero = "mkey:0000000000000000000000000000000000000000000000000000000000000000";

    [Fact]
    public void Parse_ReadsPublicAndLegacyKeys()
    {
        var keys = ControlKeyClient.Parse(Encoding.UTF8.GetBytes($"{{\"legacyPublicKey\":\"{Zero}\",\"publicKey\":\"{Key}\"}}"));

        keys.PublicKey.ToString().Should().Be(Key);
        keys.LegacyPublicKey.IsZero.Should().BeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData("79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"publicKey\":\"\"}")]
    [InlineData("{\"publicKey\":\"" + Zero + "\"}")]
    [InlineData("{\"publicKey\":\"nodekey:79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a\"}")]
    public void Parse_RejectsUnusableAnswers(string body)
        => FluentActions.Invoking(() => ControlKeyClient.Parse(Encoding.UTF8.GetBytes(body))).Should().Throw<ControlTransportException>();

    /// <summary>The JSON of the fuzz campaign's controljson finding (seed 1, index 209): 0xFF inside the legacy key's text.</summary>
    [Fact]
    public void Parse_InvalidUtf8_IsAControlTransportException()
    {
        var json = Convert.FromHexString("7B226C65676163795075626C69634B6579223A226DFF65793A303030303030303030303030303030303030303030303038643063336135633966363764626430616565346530623135227D");

        var parse = () => ControlKeyClient.Parse(json);

        parse.Should().Throw<ControlTransportException>().WithMessage("*UTF-8*");
    }

    [Fact]
    public async Task Fetch_SendsVersionAndParses()
    {
        var handler = new StubHandler(HttpStatusCode.OK, $"{{\"publicKey\":\"{Key}\"}}");
        using var client = new HttpClient(handler);

        var keys = await ControlKeyClient.FetchAsync(client, new Uri("http://127.0.0.1:9911"), 115);

        handler.LastUri!.ToString().Should().Be("http://127.0.0.1:9911/key?v=115");
        keys.PublicKey.ToString().Should().Be(Key);
    }

    [Fact]
    public async Task Fetch_Non200_ThrowsWithStatusAndBody()
    {
        using var client = new HttpClient(new StubHandler(HttpStatusCode.BadRequest, "capability version must be set"));

        await FluentActions.Invoking(() => ControlKeyClient.FetchAsync(client, new Uri("http://h"), 115))
            .Should().ThrowAsync<ControlTransportException>().WithMessage("*400*capability version must be set*");
    }

    [Fact]
    public async Task Fetch_OversizedBody_IsRefused()
    {
        using var client = new HttpClient(new StubHandler(HttpStatusCode.OK, new string(' ', ControlKeyClient.MaxResponseBytes + 1)));

        await FluentActions.Invoking(() => ControlKeyClient.FetchAsync(client, new Uri("http://h"), 115))
            .Should().ThrowAsync<ControlTransportException>().WithMessage("*exceeds*");
    }

    private sealed class StubHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        public Uri? LastUri { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            LastUri = request.RequestUri;
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body) });
        }
    }
}
