using System.Text;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Protocol;

/// <summary>Map-response framing (fixtures B.5, protocol doc §9.2, the shared server's README).</summary>
public sealed class MapFrameReaderTests
{
    private const string PlainKeepAliveFrame = "120000007b224b656570416c697665223a747275657d";

    // libzstd level 1 with the content size (B.5).
    private const string ZstdKeepAlive = "28b52ffd20129100007b224b656570416c697665223a747275657d";

    // Streamed: no content size, with a checksum (the form the Go test server sends, 28b52ffd04…).
    private const string ZstdKeepAliveNoContentSize = "28b52ffd04489100007b224b656570416c697665223a747275657d0e260c10";

    private static MemoryStream Stream(params byte[][] frames) => new([.. frames.SelectMany(f => f)]);

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static byte[] JsonFrame(string json) => MapFrame.Encode(Encoding.UTF8.GetBytes(json));

    [Fact]
    public async Task PlainKeepAlive_FromTheVector()
    {
        var reader = new MapFrameReader(Stream(Hex(PlainKeepAliveFrame)), zstd: false);

        var message = await reader.ReadAsync(CancellationToken.None);

        message!.KeepAlive.Should().BeTrue();
        (await reader.ReadAsync(CancellationToken.None)).Should().BeNull("the stream ended cleanly between frames");
        reader.FramesRead.Should().Be(1);
    }

    [Theory]
    [InlineData(ZstdKeepAlive)]
    [InlineData(ZstdKeepAliveNoContentSize)]
    public async Task ZstdKeepAlive_WithAndWithoutContentSize(string frameHex)
    {
        var payload = Hex(frameHex);
        var reader = new MapFrameReader(Stream(MapFrame.Encode(payload), MapFrame.Encode(payload)), zstd: true);

        (await reader.ReadAsync(CancellationToken.None))!.KeepAlive.Should().BeTrue();
        (await reader.ReadAsync(CancellationToken.None))!.KeepAlive.Should().BeTrue("the learned compressed form matches");
        (await reader.ReadAsync(CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public void ZstdFrameLengthPrefix_IsLittleEndian()
    {
        Convert.ToHexStringLower(MapFrame.Encode(Hex(ZstdKeepAlive))).Should().StartWith("1b000000");
    }

    [Fact]
    public async Task ZstdMapMessages_DecodeInOrder()
    {
        using var compressor = new ZstdSharp.Compressor(3);
        var first = compressor.Wrap(Encoding.UTF8.GetBytes("""{"Node":{"ID":1,"Name":"self."},"Domain":"d"}""")).ToArray();
        var second = compressor.Wrap(Encoding.UTF8.GetBytes("""{"PeersRemoved":[4]}""")).ToArray();
        var reader = new MapFrameReader(Stream(MapFrame.Encode(first), MapFrame.Encode(second)), zstd: true);

        (await reader.ReadAsync(CancellationToken.None))!.Node!.Name.Should().Be("self.");
        (await reader.ReadAsync(CancellationToken.None))!.PeersRemoved.Should().Equal(4);
    }

    [Fact]
    public async Task StalledStream_ReadEndsWhenCancelled()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        await pipe.Writer.WriteAsync(Hex(PlainKeepAliveFrame)[..7]);
        var reader = new MapFrameReader(pipe.Reader.AsStream(), zstd: false);
        using var cancel = new CancellationTokenSource();

        var read = reader.ReadAsync(cancel.Token).AsTask();
        read.IsCompleted.Should().BeFalse("half a frame arrived and the server went quiet");
        await cancel.CancelAsync();

        await FluentActions.Awaiting(() => read).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task TruncatedHeader_IsACleanError()
    {
        var reader = new MapFrameReader(new MemoryStream([0x12, 0x00]), zstd: false);

        var read = async () => await reader.ReadAsync(CancellationToken.None);

        (await read.Should().ThrowAsync<ControlProtocolException>()).WithMessage("*frame header (2 of 4 bytes)*");
    }

    [Fact]
    public async Task TruncatedPayload_IsACleanError()
    {
        var frame = Hex(PlainKeepAliveFrame);
        var reader = new MapFrameReader(new MemoryStream(frame[..10]), zstd: false);

        var read = async () => await reader.ReadAsync(CancellationToken.None);

        (await read.Should().ThrowAsync<ControlProtocolException>()).WithMessage("*inside a frame (6 of 18 bytes)*");
    }

    [Fact]
    public async Task FrameAboveTheLimit_IsRefusedFromItsHeader()
    {
        // Only the header exists: the reader must refuse from the length alone, not wait for or allocate the body.
        var reader = new MapFrameReader(new MemoryStream([0xff, 0xff, 0xff, 0x7f]), zstd: false);

        var read = async () => await reader.ReadAsync(CancellationToken.None);

        (await read.Should().ThrowAsync<ControlProtocolException>()).WithMessage($"*2147483647 bytes is above the limit of {MapFrame.DefaultMaxFrameBytes}*");
    }

    [Fact]
    public async Task ZstdBomb_AboveTheDecodedLimit_IsRefused()
    {
        using var compressor = new ZstdSharp.Compressor(1);
        var json = "{\"Domain\":\"" + new string('a', 100_000) + "\"}";
        var payload = compressor.Wrap(Encoding.UTF8.GetBytes(json)).ToArray();
        var reader = new MapFrameReader(Stream(MapFrame.Encode(payload)), zstd: true, maxDecodedBytes: 50_000);

        var read = async () => await reader.ReadAsync(CancellationToken.None);

        (await read.Should().ThrowAsync<ControlProtocolException>()).WithMessage("*more than 50000 bytes*");
    }

    [Theory]
    [InlineData("{\"Node\":")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public async Task BadJson_IsACleanError(string json)
    {
        var reader = new MapFrameReader(Stream(JsonFrame(json)), zstd: false);

        var read = async () => await reader.ReadAsync(CancellationToken.None);

        await read.Should().ThrowAsync<ControlProtocolException>();
    }

    [Fact]
    public async Task NotZstd_WhenZstdWasAskedFor_IsACleanError()
    {
        var reader = new MapFrameReader(Stream(JsonFrame("""{"KeepAlive":true}""")), zstd: true);

        var read = async () => await reader.ReadAsync(CancellationToken.None);

        await read.Should().ThrowAsync<ControlProtocolException>();
    }

    [Fact]
    public async Task TruncatedZstdFrame_IsACleanError()
    {
        var payload = Hex(ZstdKeepAliveNoContentSize)[..12];
        var reader = new MapFrameReader(Stream(MapFrame.Encode(payload)), zstd: true);

        var read = async () => await reader.ReadAsync(CancellationToken.None);

        await read.Should().ThrowAsync<ControlProtocolException>();
    }
}
