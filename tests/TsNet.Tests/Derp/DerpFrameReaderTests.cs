using System.Text;
using TsNet.Derp;
using TsNet.Tests.Crypto;

namespace TsNet.Tests.Derp;

/// <summary>The buffered frame reader: HTTP head then frames, split reads, skips, the 1 MiB bound.</summary>
public sealed class DerpFrameReaderTests
{
    [Fact]
    public async Task HttpHeadThenFrames_AreReadInOrder_EvenOneByteAtATime()
    {
        var bytes = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\n\r\n")
            .Concat(Hex.Decode("0600000000" + "1400000003424144" + "13000000080102030405060708"))
            .ToArray();
        var reader = new DerpFrameReader(new TrickleStream(bytes));

        (await reader.ReadHttpHeadAsync(CancellationToken.None)).Should().StartWith("HTTP/1.1 101 ").And.EndWith("Upgrade: DERP");
        (await reader.ReadHeaderAsync(CancellationToken.None)).Should().Be(new DerpFrameHeader(DerpFrameType.KeepAlive, 0));
        (await reader.ReadHeaderAsync(CancellationToken.None)).Should().Be(new DerpFrameHeader(DerpFrameType.Health, 3));
        await reader.SkipAsync(3, CancellationToken.None);
        (await reader.ReadHeaderAsync(CancellationToken.None)).Should().Be(new DerpFrameHeader(DerpFrameType.Pong, 8));
        var data = new byte[8];
        await reader.ReadPayloadAsync(data, CancellationToken.None);
        data.Should().Equal(Hex.Range(1, 8));
        await FluentActions.Awaiting(() => reader.ReadHeaderAsync(CancellationToken.None).AsTask()).Should().ThrowAsync<EndOfStreamException>();
    }

    [Fact]
    public async Task LargePayload_IsReadWhole()
    {
        var payload = Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray();
        var bytes = new byte[5 + payload.Length];
        DerpFrameHeader.Write(bytes, DerpFrameType.RecvPacket, payload.Length);
        payload.CopyTo(bytes, 5);
        var reader = new DerpFrameReader(new MemoryStream(bytes));
        var header = await reader.ReadHeaderAsync(CancellationToken.None);
        header.Length.Should().Be((uint)payload.Length);
        var read = new byte[payload.Length];
        await reader.ReadPayloadAsync(read, CancellationToken.None);
        read.Should().Equal(payload);
    }

    [Fact]
    public async Task FrameOver1MiB_IsRefused()
    {
        var reader = new DerpFrameReader(new MemoryStream(Hex.Decode("0500100001")));
        await FluentActions.Awaiting(() => reader.ReadHeaderAsync(CancellationToken.None).AsTask()).Should().ThrowAsync<DerpProtocolException>();
        var exactly1MiB = new DerpFrameReader(new MemoryStream(Hex.Decode("ff00100000")));
        (await exactly1MiB.ReadHeaderAsync(CancellationToken.None)).Should().Be(new DerpFrameHeader((DerpFrameType)0xff, 1 << 20));
    }

    [Fact]
    public async Task OverlongHttpHead_IsRefused()
    {
        var reader = new DerpFrameReader(new MemoryStream(new byte[DerpFrameReader.MaxHttpHeadLength + 100]));
        await FluentActions.Awaiting(() => reader.ReadHttpHeadAsync(CancellationToken.None).AsTask()).Should().ThrowAsync<DerpProtocolException>();
    }

    /// <summary>Returns at most one byte per read: every buffer boundary is exercised.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}
