using System.IO.Pipelines;
using System.Text;
using TsNet.Tool.Http;

namespace TsNet.Tests.Tool;

/// <summary>Request bodies read from the connection: Content-Length and chunked, whole or one byte at a time.</summary>
public sealed class HttpRequestBodyTests
{
    private static readonly HttpRequestHead ChunkedHead = new("PUT", "/sink", 1, [], null, Chunked: true, KeepAlive: true, ExpectContinue: false);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task Chunked_WithExtensionsAndTrailers_DecodesExactly(int segmentBytes)
    {
        var wire = "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";

        var (body, rest) = await ReadAllAsync(ChunkedHead, wire, segmentBytes);

        body.Should().Be("helloabcdefghijklmnopqrstuvwxyz");
        rest.Should().Be("NEXT", "the body ends exactly after the trailers");
    }

    [Fact]
    public async Task ContentLength_ReadsExactlyThatMany()
    {
        var head = ChunkedHead with { Chunked = false, ContentLength = 5 };

        var (body, rest) = await ReadAllAsync(head, "12345GET / HTTP/1.1", 2);

        body.Should().Be("12345");
        rest.Should().Be("GET / HTTP/1.1");
    }

    [Theory]
    [InlineData("G\r\nhello\r\n0\r\n\r\n")]
    [InlineData("\r\n")]
    [InlineData("5 x\r\nhello\r\n0\r\n\r\n")]
    [InlineData("1000000000000000\r\n")]
    [InlineData("5\r\nhelloXX\r\n0\r\n\r\n")]
    [InlineData("3\r\nabc")]
    public async Task MalformedOrTruncatedChunked_IsABadRequest(string wire)
    {
        var read = () => ReadAllAsync(ChunkedHead, wire, 4096);

        (await read.Should().ThrowAsync<HttpRequestRejectedException>()).Which.StatusCode.Should().Be(400);
    }

    [Fact]
    public async Task TruncatedContentLength_IsABadRequest()
    {
        var read = () => ReadAllAsync(ChunkedHead with { Chunked = false, ContentLength = 10 }, "12345", 4096);

        await read.Should().ThrowAsync<HttpRequestRejectedException>();
    }

    [Fact]
    public async Task ExpectContinue_IsSentOnceBeforeTheFirstRead()
    {
        var sent = 0;
        var pipe = await FilledPipeAsync("3\r\nabc\r\n0\r\n\r\n", 4096);
        var body = new HttpRequestBody(pipe, ChunkedHead with { ExpectContinue = true }, 1024, _ => { sent++; return ValueTask.CompletedTask; });

        body.ContinueSentOrNotExpected.Should().BeFalse();
        sent.Should().Be(0, "nothing is sent before the application reads");
        var buffer = new byte[1];
        while (await body.ReadAsync(buffer, CancellationToken.None) > 0)
        {
        }

        sent.Should().Be(1);
        body.IsComplete.Should().BeTrue();
        body.BytesRead.Should().Be(3);
    }

    private static async Task<(string Body, string Remainder)> ReadAllAsync(HttpRequestHead head, string wire, int segmentBytes)
    {
        var reader = await FilledPipeAsync(wire, segmentBytes);
        var body = new HttpRequestBody(reader, head, 1024, null);
        var received = new MemoryStream();
        var buffer = new byte[7];
        for (var guard = 0; guard < 10_000; guard++)
        {
            var n = await body.ReadAsync(buffer, CancellationToken.None);
            if (n == 0)
            {
                break;
            }

            received.Write(buffer, 0, n);
        }

        body.IsComplete.Should().BeTrue();
        // Whatever follows the body, up to the end of the stream (bounded: the script is finite).
        var rest = await reader.ReadAsync();
        for (var guard = 0; !rest.IsCompleted && guard < 10_000; guard++)
        {
            reader.AdvanceTo(rest.Buffer.Start, rest.Buffer.End);
            rest = await reader.ReadAsync();
        }

        var restText = Encoding.ASCII.GetString(System.Buffers.BuffersExtensions.ToArray(rest.Buffer));
        reader.AdvanceTo(rest.Buffer.End);
        return (Encoding.ASCII.GetString(received.ToArray()), restText);
    }

    // The wire bytes delivered at most segmentBytes per read of the underlying stream, then the end of the stream.
    private static Task<PipeReader> FilledPipeAsync(string wire, int segmentBytes) =>
        Task.FromResult(PipeReader.Create(new ScriptedConnection(wire, segmentBytes), new StreamPipeReaderOptions(bufferSize: 16, minimumReadSize: 1)));
}
