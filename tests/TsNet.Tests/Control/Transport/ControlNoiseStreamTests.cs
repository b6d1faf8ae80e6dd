using System.Net;
using System.Net.Sockets;
using TsNet.Control.Transport;
using TsNet.Tests.Crypto;

namespace TsNet.Tests.Control.Transport;

public class ControlNoiseStreamTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static ControlSessionKeys ClientKeys(byte[] c1, byte[] c2) => new(c1, c2, new byte[32], default, 1);

    private static ControlSessionKeys ServerKeys(byte[] c1, byte[] c2) => new(c2, c1, new byte[32], default, 1);

    /// <summary>Two connected loopback sockets wrapped as Noise streams (client, server).</summary>
    private static async Task<(ControlNoiseStream Client, ControlNoiseStream Server)> PairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient { NoDelay = true };
        var accept = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await accept;
        byte[] c1 = Hex.Range(1, 32), c2 = Hex.Range(33, 64);
        return (new ControlNoiseStream(client.GetStream(), ClientKeys(c1, c2)), new ControlNoiseStream(server.GetStream(), ServerKeys(c1, c2)));
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        byte[] buffer = new byte[count];
        using var cts = new CancellationTokenSource(Bound);
        await stream.ReadExactlyAsync(buffer, cts.Token);
        return buffer;
    }

    [Fact]
    public async Task BigData_SplitsIntoMaximalRecords_BothWays()
    {
        var (client, server) = await PairAsync();
        await using var _ = client;
        await using var __ = server;
        byte[] up = new byte[15 * 1024];
        byte[] down = new byte[30 * 1024];
        Random.Shared.NextBytes(up);
        Random.Shared.NextBytes(down);

        var read = ReadExactlyAsync(server, up.Length);
        await client.WriteAsync(up);
        (await read).Should().Equal(up);
        var readDown = ReadExactlyAsync(client, down.Length);
        await server.WriteAsync(down);
        (await readDown).Should().Equal(down);

        client.RecordsSent.Should().Be(4);
        server.RecordsSent.Should().Be(8);
        server.RecordsReceived.Should().Be(client.RecordsSent);
        client.RecordsReceived.Should().Be(server.RecordsSent);
    }

    [Fact]
    public async Task ConcurrentReadAndWrite_BothDirectionsComplete()
    {
        var (client, server) = await PairAsync();
        await using var _ = client;
        await using var __ = server;
        byte[] payload = new byte[200_000];
        Random.Shared.NextBytes(payload);

        // Both sides write the whole payload while reading: a stream that serialized reads and writes would deadlock.
        var clientRead = ReadExactlyAsync(client, payload.Length);
        var serverRead = ReadExactlyAsync(server, payload.Length);
        await Task.WhenAll(client.WriteAsync(payload).AsTask(), server.WriteAsync(payload).AsTask()).WaitAsync(Bound);

        (await clientRead).Should().Equal(payload);
        (await serverRead).Should().Equal(payload);
    }

    [Fact]
    public async Task ManySmallWrites_ArriveInOrder()
    {
        var (client, server) = await PairAsync();
        await using var _ = client;
        await using var __ = server;
        for (byte i = 0; i < 10; i++)
        {
            await client.WriteAsync(new byte[] { i, i, i, i });
        }

        byte[] all = await ReadExactlyAsync(server, 40);
        all.Should().Equal(Enumerable.Range(0, 10).SelectMany(i => Enumerable.Repeat((byte)i, 4)));
    }

    [Fact]
    public async Task OneByteAtATime_DecodesEarlyPayloadThenHttp2Bytes()
    {
        // The three B.1 early-payload frames, trickled one byte per read, then a record with HTTP/2 bytes.
        byte[] c1 = Hex.Decode("1ffa520b7b784b83355f4ca5754d333f51f53ff31d9d98f697c22e8f79b66e22");
        byte[] c2 = Hex.Decode("1657d025486888648386e46e37e6722a42c605d3f1b0ec24454190a645355089");
        byte[] settingsHeader = [0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00];
        using var sealer = new ControlRecordCipher(c2);
        sealer.SetCounterForTest(3);
        byte[] http2 = new byte[ControlRecordCipher.FrameSize(settingsHeader.Length)];
        sealer.Seal(settingsHeader, http2);
        byte[] wire = [.. ControlRecordCipherTests.EarlyFrames.SelectMany(Hex.Decode), .. http2];

        await using var stream = new ControlNoiseStream(new TrickleStream(wire), ClientKeys(c1, c2), expectEarlyPayload: true);
        stream.EarlyPayload.IsCompleted.Should().BeFalse("the probe waits for the first read");
        byte[] firstByte = await ReadExactlyAsync(stream, 1);
        var early = await stream.EarlyPayload;

        early.Should().NotBeNull();
        early!.Json.Should().Be(ControlRecordCipherTests.EarlyJson);
        early.NodeKeyChallenge.Should().Be("chalpub:9fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8fabb349a982880b615");
        byte[] rest = await ReadExactlyAsync(stream, 8);
        ((byte[])[.. firstByte, .. rest]).Should().Equal(settingsHeader);
        (await stream.ReadAsync(new byte[1])).Should().Be(0, "the transport ended at a record boundary");
    }

    [Fact]
    public async Task NoEarlyPayload_ProbedBytesAreReplayed()
    {
        byte[] c1 = Hex.Range(1, 32), c2 = Hex.Range(33, 64);
        byte[] http2 = [0x00, 0x00, 0x12, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x64];
        using var sealer = new ControlRecordCipher(c2);
        byte[] frame = new byte[ControlRecordCipher.FrameSize(http2.Length)];
        sealer.Seal(http2, frame);

        await using var stream = new ControlNoiseStream(new MemoryStream(frame), ClientKeys(c1, c2), expectEarlyPayload: true);

        (await ReadExactlyAsync(stream, http2.Length)).Should().Equal(http2);
        (await stream.EarlyPayload).Should().BeNull();
    }

    [Fact]
    public async Task AlreadyReceivedBytes_AreReadBeforeTheTransport()
    {
        byte[] c1 = Hex.Range(1, 32), c2 = Hex.Range(33, 64);
        using var sealer = new ControlRecordCipher(c2);
        byte[] first = new byte[ControlRecordCipher.FrameSize(3)];
        byte[] second = new byte[ControlRecordCipher.FrameSize(3)];
        sealer.Seal("abc"u8, first);
        sealer.Seal("def"u8, second);
        byte[] wire = [.. first, .. second];

        // The upgrade reader buffered the first record and half the second.
        await using var stream = new ControlNoiseStream(new MemoryStream(wire[(first.Length + 5)..]), ClientKeys(c1, c2), wire.AsSpan(0, first.Length + 5));

        (await ReadExactlyAsync(stream, 6)).Should().Equal("abcdef"u8.ToArray());
    }

    [Fact]
    public async Task EmptyRecords_AreSkipped()
    {
        byte[] c1 = Hex.Range(1, 32), c2 = Hex.Range(33, 64);
        using var sealer = new ControlRecordCipher(c2);
        byte[] empty = new byte[ControlRecordCipher.FrameSize(0)];
        byte[] data = new byte[ControlRecordCipher.FrameSize(2)];
        sealer.Seal([], empty);
        sealer.Seal("ok"u8, data);

        await using var stream = new ControlNoiseStream(new MemoryStream([.. empty, .. data]), ClientKeys(c1, c2));

        (await ReadExactlyAsync(stream, 2)).Should().Equal("ok"u8.ToArray());
    }

    public static TheoryData<string, string> BadWires => new()
    {
        { "04", "header" },
        { "040015dc1924", "middle of a record" },
        { "030015dc192494126dbf7536fc5739545df3ba74e6dc4970", "unexpected message type" },
        { "041000", "exceeds" },
        { "040015dc192494126dbf7536fc5739545df3ba74e6dc4971", "authenticate" },
    };

    [Theory]
    [MemberData(nameof(BadWires))]
    public async Task BadInput_FailsTheReadWithProtocolException_AndStaysFailed(string wire, string reason)
    {
        byte[] c1 = Hex.Decode("1ffa520b7b784b83355f4ca5754d333f51f53ff31d9d98f697c22e8f79b66e22");
        // Server side reading what the client sent (B.1 "hello" frame, possibly broken).
        await using var stream = new ControlNoiseStream(new MemoryStream(Hex.Decode(wire)), ServerKeys(c1, Hex.Range(1, 32)));

        await stream.Invoking(s => s.ReadAsync(new byte[16]).AsTask()).Should().ThrowAsync<ControlTransportException>().WithMessage($"*{reason}*");
        await stream.Invoking(s => s.ReadAsync(new byte[16]).AsTask()).Should().ThrowAsync<ControlTransportException>();
    }

    [Fact]
    public async Task GoodHelloFrame_ReadsHello()
    {
        byte[] c1 = Hex.Decode("1ffa520b7b784b83355f4ca5754d333f51f53ff31d9d98f697c22e8f79b66e22");
        await using var stream = new ControlNoiseStream(new MemoryStream(Hex.Decode("040015dc192494126dbf7536fc5739545df3ba74e6dc4970")), ServerKeys(c1, Hex.Range(1, 32)));

        (await ReadExactlyAsync(stream, 5)).Should().Equal("hello"u8.ToArray());
    }

    [Fact]
    public async Task OversizedEarlyPayload_IsRefused()
    {
        byte[] c1 = Hex.Range(1, 32), c2 = Hex.Range(33, 64);
        using var sealer = new ControlRecordCipher(c2);
        byte[] frame = new byte[ControlRecordCipher.FrameSize(9)];
        sealer.Seal([0xff, 0xff, 0xff, 0x54, 0x53, 0x7f, 0xff, 0xff, 0xff], frame);
        await using var stream = new ControlNoiseStream(new MemoryStream(frame), ClientKeys(c1, c2), expectEarlyPayload: true);

        await stream.Invoking(s => s.ReadAsync(new byte[16]).AsTask()).Should().ThrowAsync<ControlTransportException>().WithMessage("*exceeds*");
        await stream.Invoking(s => s.EarlyPayload).Should().ThrowAsync<ControlTransportException>();
    }

    [Fact]
    public async Task Dispose_EndsPendingRead_AndFailsLaterUse()
    {
        var (client, server) = await PairAsync();
        await using var __ = server;
        var pending = client.ReadAsync(new byte[10]).AsTask();

        await client.DisposeAsync();

        // The pending read ends either way the socket reports a local close: end of stream (0) or an exception.
        int? read = null;
        try
        {
            read = await pending.WaitAsync(Bound);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }

        (read ?? 0).Should().Be(0);
        pending.IsCompleted.Should().BeTrue();
        await client.Invoking(c => c.WriteAsync(new byte[1]).AsTask()).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task Cancellation_EndsAPendingRead()
    {
        var (client, server) = await PairAsync();
        await using var _ = client;
        await using var __ = server;
        using var cts = new CancellationTokenSource();
        var pending = client.ReadAsync(new byte[10], cts.Token).AsTask();

        await cts.CancelAsync();

        await pending.Invoking(p => p.WaitAsync(Bound)).Should().ThrowAsync<OperationCanceledException>();
    }

    /// <summary>Hands out one byte per read.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}
