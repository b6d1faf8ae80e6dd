using System.Text;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Protocol;

/// <summary>
/// zstd frames that declare their content size decode straight into a buffer of that size; anything else (no size,
/// more frames than the first, a size out of proportion) decodes through the stream as before, with the same result.
/// </summary>
public sealed class MapFrameDeclaredSizeTests
{
    private static readonly byte[] Json = Encoding.UTF8.GetBytes(
        "{\"Peers\":[" + string.Join(",", Enumerable.Range(0, 2000).Select(i => $$"""{"ID":{{i}},"Name":"peer{{i}}.tailnet.example."}""")) + "]}");

    [Fact]
    public void ADeclaredSize_IsRead_AndDecodesToTheSameBytes()
    {
        using var compressor = new ZstdSharp.Compressor(3);
        var frame = compressor.Wrap(Json).ToArray();

        MapFrame.DeclaredContentSize(frame).Should().Be((ulong)Json.Length);
        MapFrame.Decompress(frame).Should().Equal(Json);
        MapFrame.Decode(frame, zstd: true).Peers.Should().HaveCount(2000);
    }

    [Fact]
    public void NoDeclaredSize_DecodesThroughTheStream()
    {
        using var output = new MemoryStream();
        using (var stream = new ZstdSharp.CompressionStream(output))
        {
            stream.Write(Json);
        }

        var frame = output.ToArray();

        MapFrame.DeclaredContentSize(frame).Should().BeNull();
        MapFrame.Decompress(frame).Should().Equal(Json);
    }

    [Fact]
    public void MoreFramesThanTheFirst_DecodeWhole()
    {
        using var compressor = new ZstdSharp.Compressor(3);
        var half = Json.Length / 2;
        byte[] frames = [.. compressor.Wrap(Json.AsSpan(0, half)).ToArray(), .. compressor.Wrap(Json.AsSpan(half)).ToArray()];

        MapFrame.DeclaredContentSize(frames).Should().Be((ulong)half);
        MapFrame.Decompress(frames).Should().Equal(Json);
    }

    [Fact]
    public void ADeclaredSizeAboveTheLimit_IsRefusedBeforeDecoding()
    {
        using var compressor = new ZstdSharp.Compressor(3);
        var frame = compressor.Wrap(Json).ToArray();

        var act = () => MapFrame.Decompress(frame, maxDecodedBytes: Json.Length - 1);

        act.Should().Throw<ControlProtocolException>().WithMessage($"*more than {Json.Length - 1} bytes*");
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x28, 0xB5, 0x2F, 0xFD })]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })]
    public void NotAFrameHeader_DeclaresNothing(byte[] bytes) =>
        MapFrame.DeclaredContentSize(bytes).Should().BeNull();
}
