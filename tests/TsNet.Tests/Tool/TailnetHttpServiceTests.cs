using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Text.Json;

namespace TsNet.Tests.Tool;

/// <summary>
/// <c>tsnet up --http</c>'s server (Kestrel over the tailnet) from another in-process node: files with content types,
/// HEAD, ranges, 404/400/405, the 16 KiB head limit (431), the sink (Content-Length, chunked, 100-continue).
/// </summary>
public sealed class TailnetHttpServiceTests : IClassFixture<TailnetHttpFixture>
{
    private readonly TailnetHttpFixture _site;

    public TailnetHttpServiceTests(TailnetHttpFixture site)
    {
        _site = site;
    }

    [Fact]
    public async Task Get_ServesFiles_WithContentTypes_AndNoHostListener()
    {
        using var http = _site.B.CreateHttpClient();

        using (var hello = await http.GetAsync(new Uri(_site.BaseUri, "/hello.txt"), _site.Token))
        {
            hello.StatusCode.Should().Be(HttpStatusCode.OK);
            hello.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
            (await hello.Content.ReadAsStringAsync(_site.Token)).Should().Be("hello");
        }

        (await http.GetStringAsync(new Uri(_site.BaseUri, "/sub/a%20b.bin?v=1"), _site.Token)).Should().Be("nested");
        IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Should().NotContain(l => l.Port == _site.Port, "the tailnet port has no host socket");
    }

    [Theory]
    [InlineData("notes.weird-extension")]
    [InlineData("no-extension")]
    [InlineData(".hidden")]
    public async Task Get_UnknownOrNoExtension_DownloadsAsOctetStream(string name)
    {
        var data = RandomNumberGenerator.GetBytes(3000);
        await File.WriteAllBytesAsync(Path.Combine(_site.Www, name), data, _site.Token);
        using var http = _site.B.CreateHttpClient();

        using var response = await http.GetAsync(new Uri(_site.BaseUri, "/" + name), _site.Token);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        (await response.Content.ReadAsByteArrayAsync(_site.Token)).Should().Equal(data);
    }

    [Fact]
    public async Task Head_AnnouncesTheLength_WithoutABody()
    {
        var head = await _site.ExchangeRawAsync("HEAD /hello.txt HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n");

        head.Should().StartWith("HTTP/1.1 200 OK\r\n").And.Contain("Content-Length: 5\r\n").And.EndWith("\r\n\r\n", "HEAD has no body");
    }

    [Fact]
    public async Task Range_Is206_WithContentRange_AndExactlyThoseBytes()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);
        await File.WriteAllBytesAsync(Path.Combine(_site.Www, "ranged.bin"), data, _site.Token);
        using var http = _site.B.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_site.BaseUri, "/ranged.bin"));
        request.Headers.Range = new RangeHeaderValue(1000, 70_999);

        using var response = await http.SendAsync(request, _site.Token);

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        response.Content.Headers.ContentRange!.ToString().Should().Be("bytes 1000-70999/100000");
        (await response.Content.ReadAsByteArrayAsync(_site.Token)).Should().Equal(data[1000..71_000]);
        response.Headers.AcceptRanges.Should().Contain("bytes");
    }

    [Theory]
    [InlineData("/missing.txt")]
    [InlineData("/")]
    [InlineData("/sub")]
    [InlineData("/secret.txt")]
    public async Task Missing_Is404(string path)
    {
        using var http = _site.B.CreateHttpClient();

        using var response = await http.GetAsync(new Uri(_site.BaseUri, path), _site.Token);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/sub/..%2f..%2fsecret.txt")]
    [InlineData("/sub/%2E%2E/%2E%2E/secret.txt")]
    [InlineData("/..%5csecret.txt")]
    [InlineData("/hello.txt%00")]
    [InlineData("/%zz")]
    [InlineData("/%c3%28")]
    public async Task TargetsLeavingTheDirectoryOrMalformed_Are400(string target)
    {
        var response = await _site.ExchangeRawAsync($"GET {target} HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n");

        response.Should().StartWith("HTTP/1.1 400 ");
        response.Should().NotContain("secret");
    }

    [Fact]
    public async Task SymlinkPointingOutside_Is404_InsideIsServed()
    {
        File.CreateSymbolicLink(Path.Combine(_site.Www, "out-link.txt"), Path.Combine(_site.Root, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_site.Www, "out-dir"), _site.Root);
        File.CreateSymbolicLink(Path.Combine(_site.Www, "in-link.txt"), Path.Combine(_site.Www, "hello.txt"));
        using var http = _site.B.CreateHttpClient();

        (await http.GetAsync(new Uri(_site.BaseUri, "/out-link.txt"), _site.Token)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await http.GetAsync(new Uri(_site.BaseUri, "/out-dir/secret.txt"), _site.Token)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await http.GetStringAsync(new Uri(_site.BaseUri, "/in-link.txt"), _site.Token)).Should().Be("hello");
    }

    [Fact]
    public async Task HeadOver16KiB_Is431_AndJustUnderIsServed()
    {
        using var http = _site.B.CreateHttpClient();
        using var huge = new HttpRequestMessage(HttpMethod.Get, new Uri(_site.BaseUri, "/hello.txt"));
        huge.Headers.Add("Cookie", new string('c', 20_000));
        using var fits = new HttpRequestMessage(HttpMethod.Get, new Uri(_site.BaseUri, "/hello.txt"));
        fits.Headers.Add("Cookie", new string('c', 15_000));

        (await http.SendAsync(huge, _site.Token)).StatusCode.Should().Be(HttpStatusCode.RequestHeaderFieldsTooLarge);
        (await http.SendAsync(fits, _site.Token)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("PUT", false, false)]
    [InlineData("POST", true, false)]
    [InlineData("PUT", false, true)]
    public async Task Sink_AnswersByteCountAndSha256_OfAMebibyteAndMore(string method, bool chunked, bool expectContinue)
    {
        var data = RandomNumberGenerator.GetBytes((1024 * 1024) + 12_345);
        using var http = _site.B.CreateHttpClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(_site.BaseUri, "/sink"))
        {
            // A stream of unknown length goes chunked.
            Content = chunked ? new StreamContent(new NonSeekableStream(data)) : new ByteArrayContent(data),
        };
        request.Headers.ExpectContinue = expectContinue;

        using var response = await http.SendAsync(request, _site.Token);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var body = await response.Content.ReadAsStringAsync(_site.Token);
        body.Should().Be($"{{\"bytes\":{data.Length},\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(data))}\"}}\n");
        using var json = JsonDocument.Parse(body);
        json.RootElement.GetProperty("bytes").GetInt64().Should().Be(data.Length);
    }

    [Fact]
    public async Task Sink_EmptyBody_IsZeroBytes()
    {
        using var http = _site.B.CreateHttpClient();

        using var response = await http.PostAsync(new Uri(_site.BaseUri, "/sink"), new ByteArrayContent([]), _site.Token);

        (await response.Content.ReadAsStringAsync(_site.Token)).Should().Be($"{{\"bytes\":0,\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData([]))}\"}}\n");
    }

    [Fact]
    public async Task WrongMethods_Are405_WithAllow_AndTheConnectionStaysUsable()
    {
        var output = await _site.ExchangeRawAsync(
            "GET /sink HTTP/1.1\r\nHost: n\r\n\r\n" +
            "DELETE /hello.txt HTTP/1.1\r\nHost: n\r\n\r\n" +
            "PUT /hello.txt HTTP/1.1\r\nHost: n\r\nContent-Length: 2\r\n\r\nxx" +
            "GET /hello.txt HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n");

        var statuses = System.Text.RegularExpressions.Regex.Matches(output, "^HTTP/1.1 ([0-9]{3}) .*$", System.Text.RegularExpressions.RegexOptions.Multiline);
        statuses.Select(m => m.Groups[1].Value).Should().Equal("405", "405", "405", "200");
        output.Should().Contain("Allow: PUT, POST\r\n").And.Contain("Allow: GET, HEAD\r\n").And.EndWith("hello");
    }

    [Fact]
    public async Task Requests_AreNotLoggedOneLineEach()
    {
        using var http = _site.B.CreateHttpClient();
        for (var i = 0; i < 3; i++)
        {
            (await http.GetStringAsync(new Uri(_site.BaseUri, "/hello.txt"), _site.Token)).Should().Be("hello");
        }

        _site.Log.Should().NotContain("/hello.txt", "ASP.NET Core's request lines stay below the default level");
        _site.Log.Should().Contain("Kestrel is listening on the tailnet", "the transport's start is logged through the tool's logger");
    }

    /// <summary>A read-only stream without a length, so HttpClient sends it chunked.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
