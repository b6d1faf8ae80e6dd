using System.Buffers;
using System.Text;
using TsNet.Tool.Http;

namespace TsNet.Tests.Tool;

/// <summary>The tool's HTTP/1.1 request-head parser: framing, keep-alive, and every rejection with its status.</summary>
public sealed class HttpHeadParserTests
{
    private const int Max = 1024;

    [Fact]
    public void Get_IsParsed_WithHeadersAndKeepAlive()
    {
        var head = Parse("GET /file.bin?x=1 HTTP/1.1\r\nHost: node\r\nUser-Agent:  curl/8 \r\n\r\nNEXT", out var consumed);

        head.Method.Should().Be("GET");
        head.Target.Should().Be("/file.bin?x=1");
        head.MinorVersion.Should().Be(1);
        head.Header("user-agent").Should().Be("curl/8");
        head.KeepAlive.Should().BeTrue();
        head.HasBody.Should().BeFalse();
        consumed.Should().Be("GET /file.bin?x=1 HTTP/1.1\r\nHost: node\r\nUser-Agent:  curl/8 \r\n\r\n".Length, "the bytes after the head belong to the next request");
    }

    [Fact]
    public void BareLineFeeds_AndLeadingEmptyLines_AreTolerated()
    {
        var head = Parse("\r\n\nPUT /sink HTTP/1.1\nHost: n\nContent-Length: 5\n\n", out _);

        head.Method.Should().Be("PUT");
        head.ContentLength.Should().Be(5);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\nHost: n\r\nConnection: Keep-Alive, Upgrade\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.0\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true)]
    public void KeepAlive_FollowsVersionAndConnectionHeader(string text, bool keepAlive)
    {
        Parse(text, out _).KeepAlive.Should().Be(keepAlive);
    }

    [Fact]
    public void Chunked_AndExpectContinue_AreRecognised()
    {
        var head = Parse("POST /sink HTTP/1.1\r\nHost: n\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", out _);

        head.Chunked.Should().BeTrue();
        head.ContentLength.Should().BeNull();
        head.ExpectContinue.Should().BeTrue();
        head.HasBody.Should().BeTrue();
    }

    [Fact]
    public void IncompleteHead_NeedsMoreBytes()
    {
        var bytes = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: n\r\n");

        HttpHeadParser.TryParse(new ReadOnlySequence<byte>(bytes), Max, out var head, out _).Should().BeFalse();
        head.Should().BeNull();
    }

    [Theory]
    [InlineData(400, "GET /\r\n\r\n")]
    [InlineData(400, "GET  / HTTP/1.1\r\nHost: n\r\n\r\n")]
    [InlineData(400, "G(T / HTTP/1.1\r\nHost: n\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.1\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.1\r\nHost : n\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.1\r\nHost: n\r\n folded\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.1\r\nHost: n\r\nNoColon\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.1\r\nHost: n\x00\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.1\r\nHost: n\rX: y\r\n\r\n")]
    [InlineData(400, "PUT /sink HTTP/1.1\r\nHost: n\r\nContent-Length: -1\r\n\r\n")]
    [InlineData(400, "PUT /sink HTTP/1.1\r\nHost: n\r\nContent-Length: 1 2\r\n\r\n")]
    [InlineData(400, "PUT /sink HTTP/1.1\r\nHost: n\r\nContent-Length: 99999999999999999999\r\n\r\n")]
    [InlineData(400, "PUT /sink HTTP/1.1\r\nHost: n\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")]
    [InlineData(400, "PUT /sink HTTP/1.1\r\nHost: n\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData(400, "GET / HTTP/1.x\r\nHost: n\r\n\r\n")]
    [InlineData(501, "PUT /sink HTTP/1.1\r\nHost: n\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")]
    [InlineData(505, "GET / HTTP/2.0\r\nHost: n\r\n\r\n")]
    [InlineData(417, "PUT /sink HTTP/1.1\r\nHost: n\r\nExpect: magic\r\n\r\n")]
    public void MalformedHeads_AreRejectedWithTheirStatus(int status, string text)
    {
        var parse = () => Parse(text, out _);

        parse.Should().Throw<HttpRequestRejectedException>().Which.StatusCode.Should().Be(status);
    }

    [Fact]
    public void OversizedHead_Is431_CompleteOrNot()
    {
        var big = "GET / HTTP/1.1\r\nHost: n\r\nX-Big: " + new string('a', Max) + "\r\n";

        var incomplete = () => Parse(big, out _);
        var complete = () => Parse(big + "\r\n", out _);

        incomplete.Should().Throw<HttpRequestRejectedException>().Which.StatusCode.Should().Be(431);
        complete.Should().Throw<HttpRequestRejectedException>().Which.StatusCode.Should().Be(431);
    }

    private static HttpRequestHead Parse(string text, out long consumed)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text));
        HttpHeadParser.TryParse(buffer, Max, out var head, out var position).Should().BeTrue();
        consumed = buffer.Slice(0, position).Length;
        return head!;
    }
}
