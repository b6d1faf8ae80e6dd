using System.Globalization;
using System.Text;

namespace TsNet.Tests.Tool;

/// <summary>
/// <c>tsnet up --http</c>'s file answers beyond the plain GET, as raw HTTP/1.1 from another in-process node: validators
/// (<c>ETag</c>, <c>Last-Modified</c>), conditional requests (304, 412), ranges (suffix, open, clipped, unsatisfiable
/// 416, several ranges and bad syntax served whole, <c>If-Range</c>) and HEAD.
/// </summary>
public sealed class TailnetHttpRangeAndConditionalTests : IClassFixture<TailnetHttpFixture>
{
    private const int Length = 1000;
    private readonly TailnetHttpFixture _site;
    private readonly byte[] _data = Enumerable.Range(0, Length).Select(i => (byte)('a' + (i % 26))).ToArray();

    public TailnetHttpRangeAndConditionalTests(TailnetHttpFixture site)
    {
        _site = site;
        var path = Path.Combine(_site.Www, "cond.txt");
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, _data);
            File.SetLastWriteTimeUtc(path, new DateTime(2026, 3, 4, 5, 6, 7, 890, DateTimeKind.Utc));
        }
    }

    [Fact]
    public async Task Get_CarriesValidators_AndAcceptRanges()
    {
        var response = await GetAsync();

        response.Status.Should().Be(200);
        response.Headers["Last-Modified"].Should().Be("Wed, 04 Mar 2026 05:06:07 GMT");
        response.Headers["ETag"].Should().MatchRegex("^\"[^\"]+\"$", "a strong validator");
        response.Headers["Accept-Ranges"].Should().Be("bytes");
        response.Headers["Content-Type"].Should().Be("text/plain");
        response.Body.Should().Be(Encoding.ASCII.GetString(_data));
    }

    [Fact]
    public async Task MatchingValidators_Are304_WithoutABody()
    {
        var etag = (await GetAsync()).Headers["ETag"];

        var byTag = await GetAsync($"If-None-Match: {etag}");
        var byAnyTag = await GetAsync("If-None-Match: \"other\", " + etag);
        var byDate = await GetAsync("If-Modified-Since: Wed, 04 Mar 2026 05:06:07 GMT");
        var later = await GetAsync("If-Modified-Since: Thu, 05 Mar 2026 00:00:00 GMT");

        foreach (var notModified in new[] { byTag, byAnyTag, byDate, later })
        {
            notModified.Status.Should().Be(304);
            notModified.Body.Should().BeEmpty();
            notModified.Headers["ETag"].Should().Be(etag);
        }
    }

    [Fact]
    public async Task StaleValidators_AreServedWhole()
    {
        (await GetAsync("If-None-Match: \"other\"")).Status.Should().Be(200);
        (await GetAsync("If-Modified-Since: Tue, 03 Mar 2026 00:00:00 GMT")).Status.Should().Be(200);
        (await GetAsync("If-Modified-Since: not a date")).Status.Should().Be(200);
    }

    [Fact]
    public async Task FailedPreconditions_Are412()
    {
        var etag = (await GetAsync()).Headers["ETag"];

        (await GetAsync("If-Match: \"other\"")).Status.Should().Be(412);
        (await GetAsync("If-Unmodified-Since: Tue, 03 Mar 2026 00:00:00 GMT")).Status.Should().Be(412);
        (await GetAsync($"If-Match: {etag}")).Status.Should().Be(200);
        (await GetAsync("If-Match: *")).Status.Should().Be(200);
        (await GetAsync("If-Unmodified-Since: Wed, 04 Mar 2026 05:06:07 GMT")).Status.Should().Be(200);
    }

    [Theory]
    [InlineData("bytes=0-0", 0, 0)]
    [InlineData("bytes=990-", 990, 999)]
    [InlineData("bytes=-10", 990, 999)]
    [InlineData("bytes=900-5000", 900, 999)]
    [InlineData("bytes=-5000", 0, 999)]
    public async Task Ranges_Are206_WithExactlyThoseBytes(string range, int first, int last)
    {
        var response = await GetAsync("Range: " + range);

        response.Status.Should().Be(206);
        response.Headers["Content-Range"].Should().Be(string.Create(CultureInfo.InvariantCulture, $"bytes {first}-{last}/{Length}"));
        response.Headers["Content-Length"].Should().Be((last - first + 1).ToString(CultureInfo.InvariantCulture));
        response.Body.Should().Be(Encoding.ASCII.GetString(_data, first, last - first + 1));
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=5000-6000")]
    public async Task UnsatisfiableRange_Is416_NamingTheLength(string range)
    {
        var response = await GetAsync("Range: " + range);

        response.Status.Should().Be(416);
        response.Headers["Content-Range"].Should().Be($"bytes */{Length}");
        response.Body.Should().BeEmpty();
    }

    [Theory]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=abc")]
    [InlineData("items=0-1")]
    [InlineData("bytes=5-1")]
    public async Task SeveralOrMalformedRanges_AreServedWhole(string range)
    {
        var response = await GetAsync("Range: " + range);

        response.Status.Should().Be(200);
        response.Body.Should().Be(Encoding.ASCII.GetString(_data));
    }

    [Fact]
    public async Task IfRange_AppliesTheRangeOnlyWhileTheValidatorMatches()
    {
        var etag = (await GetAsync()).Headers["ETag"];

        (await GetAsync("Range: bytes=0-9", $"If-Range: {etag}")).Status.Should().Be(206);
        (await GetAsync("Range: bytes=0-9", "If-Range: Wed, 04 Mar 2026 05:06:07 GMT")).Status.Should().Be(206);
        (await GetAsync("Range: bytes=0-9", "If-Range: \"other\"")).Status.Should().Be(200);
        (await GetAsync("Range: bytes=0-9", "If-Range: Tue, 03 Mar 2026 00:00:00 GMT")).Status.Should().Be(200);
    }

    [Fact]
    public async Task Head_HasTheHeadersOfGet_AndNoBody()
    {
        var get = await GetAsync();
        var head = await ExchangeAsync("HEAD", []);

        head.Status.Should().Be(200);
        head.Body.Should().BeEmpty();
        foreach (var name in new[] { "Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges" })
        {
            head.Headers[name].Should().Be(get.Headers[name], name);
        }
    }

    private Task<RawResponse> GetAsync(params string[] headers) => ExchangeAsync("GET", headers);

    private async Task<RawResponse> ExchangeAsync(string method, string[] headers)
    {
        var request = new StringBuilder($"{method} /cond.txt HTTP/1.1\r\nHost: n\r\nConnection: close\r\n");
        foreach (var header in headers)
        {
            request.Append(header).Append("\r\n");
        }

        var text = await _site.ExchangeRawAsync(request.Append("\r\n").ToString());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        split.Should().BePositive(text);
        var lines = text[..split].Split("\r\n");
        var fields = lines.Skip(1).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        return new RawResponse(int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture), fields, text[(split + 4)..]);
    }

    private sealed record RawResponse(int Status, Dictionary<string, string> Headers, string Body);
}
