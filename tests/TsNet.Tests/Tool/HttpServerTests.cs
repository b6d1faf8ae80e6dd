using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Tool.Http;

namespace TsNet.Tests.Tool;

/// <summary>
/// The tool's HTTP/1.1 server on one connection, in-process: files from the www directory (never outside it),
/// the sink (Content-Length and chunked, with and without <c>Expect: 100-continue</c>), keep-alive, bad requests.
/// </summary>
public sealed class HttpServerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tsnet-http-test-").FullName;
    private readonly string _www;

    public HttpServerTests()
    {
        _www = Path.Combine(_root, "www");
        Directory.CreateDirectory(Path.Combine(_www, "sub"));
        File.WriteAllText(Path.Combine(_www, "hello.txt"), "hello");
        File.WriteAllText(Path.Combine(_www, "sub", "a b.bin"), "nested");
        File.WriteAllText(Path.Combine(_root, "secret.txt"), "secret");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    public async Task Get_ServesTheFile_AndKeepsTheConnectionForPipelinedRequests(int maxReadBytes)
    {
        var output = await ServeAsync(
            "GET /hello.txt HTTP/1.1\r\nHost: n\r\n\r\n" +
            "GET /sub/a%20b.bin?v=1 HTTP/1.1\r\nHost: n\r\n\r\n" +
            "HEAD /hello.txt HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n",
            maxReadBytes);

        var responses = SplitResponses(output);
        responses.Should().HaveCount(3);
        responses[0].Should().StartWith("HTTP/1.1 200 OK\r\n").And.Contain("Content-Length: 5\r\n").And.Contain("Content-Type: text/plain").And.EndWith("\r\n\r\nhello");
        responses[0].Should().NotContain("Connection: close");
        responses[1].Should().StartWith("HTTP/1.1 200 OK\r\n").And.Contain("Content-Length: 6\r\n").And.EndWith("\r\n\r\nnested");
        responses[2].Should().StartWith("HTTP/1.1 200 OK\r\n").And.Contain("Content-Length: 5\r\n").And.Contain("Connection: close\r\n").And.EndWith("\r\n\r\n", "HEAD has no body");
    }

    [Theory]
    [InlineData("/../secret.txt", 400)]
    [InlineData("/%2e%2e/secret.txt", 400)]
    [InlineData("/sub/..%2f..%2fsecret.txt", 400)]
    [InlineData("/sub/%2E%2E/%2E%2E/secret.txt", 400)]
    [InlineData("/..%5csecret.txt", 400)]
    [InlineData("/hello.txt%00", 400)]
    [InlineData("/%zz", 400)]
    [InlineData("/%c3%28", 400)]
    [InlineData("hello.txt", 400)]
    [InlineData("/missing.txt", 404)]
    [InlineData("/", 404)]
    [InlineData("/sub", 404)]
    [InlineData("/secret.txt", 404)]
    public async Task Get_OutsideOrMissing_IsRefused(string target, int status)
    {
        var output = await ServeAsync($"GET {target} HTTP/1.1\r\nHost: n\r\n\r\n");

        output.Should().StartWith($"HTTP/1.1 {status} ");
        output.Should().NotContain("secret");
    }

    [Fact]
    public async Task Get_SymlinkPointingOutside_IsNotFound()
    {
        File.CreateSymbolicLink(Path.Combine(_www, "link.txt"), Path.Combine(_root, "secret.txt"));

        var output = await ServeAsync("GET /link.txt HTTP/1.1\r\nHost: n\r\n\r\n");

        output.Should().StartWith("HTTP/1.1 404 ");
    }

    [Theory]
    [InlineData("PUT", false, int.MaxValue)]
    [InlineData("POST", false, 1)]
    [InlineData("PUT", true, int.MaxValue)]
    [InlineData("POST", true, 3)]
    public async Task Sink_HashesTheWholeBody(string method, bool chunked, int maxReadBytes)
    {
        var data = RandomNumberGenerator.GetBytes(200_000);
        var body = chunked ? Chunk(data, 7000) : data;
        var head = $"{method} /sink HTTP/1.1\r\nHost: n\r\n" + (chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {data.Length}\r\n") + "\r\n";
        var next = "GET /hello.txt HTTP/1.1\r\nHost: n\r\n\r\n";

        var output = await ServeAsync([.. Encoding.ASCII.GetBytes(head), .. body, .. Encoding.ASCII.GetBytes(next)], maxReadBytes);

        var responses = SplitResponses(output);
        responses.Should().HaveCount(2, "the connection stays usable after the body");
        responses[0].Should().StartWith("HTTP/1.1 200 OK\r\n").And.Contain("Content-Type: application/json");
        Body(responses[0]).Should().Be($"{{\"bytes\":{data.Length},\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(data))}\"}}\n");
        responses[1].Should().EndWith("hello");
    }

    [Fact]
    public async Task Sink_WithExpectContinue_SendsContinueThenTheResult()
    {
        var output = await ServeAsync("PUT /sink HTTP/1.1\r\nHost: n\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc");

        output.Should().StartWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
        output.Should().EndWith($"{{\"bytes\":3,\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData("abc"u8))}\"}}\n");
    }

    [Fact]
    public async Task Sink_EmptyBody_IsZeroBytes()
    {
        var output = await ServeAsync("POST /sink HTTP/1.1\r\nHost: n\r\nContent-Length: 0\r\n\r\n");

        Body(output).Should().Be($"{{\"bytes\":0,\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData([]))}\"}}\n");
    }

    [Fact]
    public async Task WrongMethods_Are405_WithAllow()
    {
        var output = await ServeAsync("GET /sink HTTP/1.1\r\nHost: n\r\n\r\nDELETE /hello.txt HTTP/1.1\r\nHost: n\r\n\r\nPUT /hello.txt HTTP/1.1\r\nHost: n\r\nContent-Length: 2\r\n\r\nxxGET /hello.txt HTTP/1.1\r\nHost: n\r\n\r\n");

        var responses = SplitResponses(output);
        responses.Should().HaveCount(4, "a small unread body is skipped and the connection kept");
        responses[0].Should().StartWith("HTTP/1.1 405 ").And.Contain("Allow: PUT, POST");
        responses[1].Should().StartWith("HTTP/1.1 405 ").And.Contain("Allow: GET, HEAD");
        responses[2].Should().StartWith("HTTP/1.1 405 ");
        responses[3].Should().EndWith("hello");
    }

    [Fact]
    public async Task LargeUnreadBodyWithExpectContinue_ClosesInsteadOfReading()
    {
        var output = await ServeAsync("PUT /hello.txt HTTP/1.1\r\nHost: n\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n");

        output.Should().StartWith("HTTP/1.1 405 ").And.Contain("Connection: close").And.NotContain("100 Continue");
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", 400)]
    [InlineData("GET / HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET / HTTP/3.0\r\nHost: n\r\n\r\n", 505)]
    [InlineData("PUT /sink HTTP/1.1\r\nHost: n\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400)]
    public async Task BadRequests_GetTheirStatus_AndTheConnectionCloses(string request, int status)
    {
        var output = await ServeAsync(request + "GET /hello.txt HTTP/1.1\r\nHost: n\r\n\r\n");

        SplitResponses(output).Should().ContainSingle().Which.Should().StartWith($"HTTP/1.1 {status} ").And.Contain("Connection: close");
    }

    [Fact]
    public async Task OversizedHead_Is431()
    {
        var output = await ServeAsync("GET /hello.txt HTTP/1.1\r\nHost: n\r\nCookie: " + new string('c', 20_000) + "\r\n\r\n");

        output.Should().StartWith("HTTP/1.1 431 Request Header Fields Too Large\r\n");
    }

    [Fact]
    public async Task TruncatedHead_GetsA400_CleanCloseGetsNothing()
    {
        (await ServeAsync("GET /hello.txt HTTP/1.1\r\nHo")).Should().StartWith("HTTP/1.1 400 ");
        (await ServeAsync(string.Empty)).Should().BeEmpty();
        (await ServeAsync("\r\n")).Should().BeEmpty();
    }

    [Fact]
    public async Task SilentClient_IsClosedAfterTheHeadTimeout()
    {
        var options = new HttpServerOptions { HeadTimeout = TimeSpan.FromMilliseconds(200) };
        var connection = new ScriptedConnection("GET /hello.txt HTTP/1.1\r\nHost: n\r\n\r\nGET /hel") { StallAtEnd = true };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Handler(options).HandleAsync(connection, "test", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)).And.BeLessThan(TimeSpan.FromSeconds(20));
        SplitResponses(connection.Output).Should().ContainSingle("the first request was answered, the stalled second one not").Which.Should().EndWith("hello");
    }

    [Fact]
    public async Task StalledUpload_IsClosedAfterTheIdleTimeout()
    {
        var options = new HttpServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(200) };
        var connection = new ScriptedConnection("PUT /sink HTTP/1.1\r\nHost: n\r\nContent-Length: 10\r\n\r\nabc") { StallAtEnd = true };

        await Handler(options).HandleAsync(connection, "test", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        connection.Output.Should().BeEmpty("the body never completed");
    }

    [Fact]
    public async Task Cancellation_EndsAStalledConnection()
    {
        using var stop = new CancellationTokenSource();
        var connection = new ScriptedConnection(string.Empty) { StallAtEnd = true };

        var serve = Handler(new HttpServerOptions()).HandleAsync(connection, "test", stop.Token);
        await stop.CancelAsync();
        await serve.WaitAsync(TimeSpan.FromSeconds(30));

        connection.Output.Should().BeEmpty();
    }

    private HttpConnectionHandler Handler(HttpServerOptions options) =>
        new(new FileAndSinkSite(new WwwRoot(_www), options.BufferBytes), options, NullLogger.Instance);

    private Task<string> ServeAsync(string request, int maxReadBytes = int.MaxValue) =>
        ServeAsync(Encoding.Latin1.GetBytes(request), maxReadBytes);

    private async Task<string> ServeAsync(byte[] request, int maxReadBytes = int.MaxValue)
    {
        var connection = new ScriptedConnection(request, maxReadBytes);
        await Handler(new HttpServerOptions()).HandleAsync(connection, "test", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        return connection.Output;
    }

    private static byte[] Chunk(byte[] data, int size)
    {
        var wire = new MemoryStream();
        for (var offset = 0; offset < data.Length; offset += size)
        {
            var n = Math.Min(size, data.Length - offset);
            wire.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            wire.Write(data, offset, n);
            wire.Write("\r\n"u8);
        }

        wire.Write("0\r\n\r\n"u8);
        return wire.ToArray();
    }

    // Splits concatenated responses using each one's Content-Length (interim 100 responses have none).
    private static List<string> SplitResponses(string output)
    {
        var responses = new List<string>();
        var position = 0;
        while (position < output.Length && responses.Count < 100)
        {
            var headEnd = output.IndexOf("\r\n\r\n", position, StringComparison.Ordinal);
            headEnd.Should().BeGreaterThan(0, "every response has a complete head");
            var head = output[position..(headEnd + 4)];
            var match = System.Text.RegularExpressions.Regex.Match(head, "Content-Length: ([0-9]+)\r\n");
            var length = head.StartsWith("HTTP/1.1 100 ", StringComparison.Ordinal)
                ? 0
                : int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            // A HEAD response announces a length but carries no body: it is the last one in these tests.
            responses.Add(output.Substring(position, head.Length + Math.Min(length, output.Length - headEnd - 4)));
            position = headEnd + 4 + length;
        }

        return responses;
    }

    private static string Body(string response) => response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
}
