using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace TsNet.Tests.Facade;

/// <summary>CapturePcapAsync: the decrypted inner packets of both directions, as a pcap file.</summary>
public sealed class PacketCaptureTests
{
    [Fact]
    public async Task Capture_RecordsPingAndTcpBothWays_AsValidPcap()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var file = new MemoryStream();
            using var stopCapture = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var capture = a.CapturePcapAsync(file, stopCapture.Token);

            await a.PingAsync(IPAddress.Parse("100.64.0.2"), cancellationToken: cts.Token);
            await a.PingAsync(IPAddress.Parse("fd7a:115c:a1e0::2"), cancellationToken: cts.Token);
            await using (var listener = await b.ListenTcpAsync(7000, cts.Token))
            {
                var accept = listener.AcceptAsync(cts.Token).AsTask();
                await using var client = await a.ConnectTcpAsync("bee:7000", cts.Token);
                await using var server = await accept ?? throw new InvalidOperationException("no connection");
                await client.WriteAsync(Encoding.ASCII.GetBytes("captured-hello"), cts.Token);
                var buffer = new byte[64];
                var read = await server.ReadAsync(buffer, cts.Token);
                Encoding.ASCII.GetString(buffer, 0, read).Should().Be("captured-hello");
            }

            await stopCapture.CancelAsync();
            await capture.WaitAsync(TimeSpan.FromSeconds(10), cts.Token);

            var records = ParsePcap(file.ToArray());
            records.Should().Contain(r => IsIcmpV4(r, "100.64.0.1", "100.64.0.2", 8), "the echo request A sent");
            records.Should().Contain(r => IsIcmpV4(r, "100.64.0.2", "100.64.0.1", 0), "the echo reply A received");
            records.Should().Contain(r => r.Packet[0] >> 4 == 6 && r.Packet[6] == 58 && r.Packet[40] == 128, "the ICMPv6 echo request");
            records.Should().Contain(r => r.Packet[0] >> 4 == 6 && r.Packet[6] == 58 && r.Packet[40] == 129, "the ICMPv6 echo reply");
            records.Should().Contain(r => IsTcp(r, null, 7000, 0x02), "the SYN A sent");
            records.Should().Contain(r => IsTcp(r, 7000, null, 0x12), "the SYN-ACK A received");
            records.Should().Contain(r => Encoding.ASCII.GetString(r.Packet).Contains("captured-hello", StringComparison.Ordinal), "the payload in clear text");
            records.Should().OnlyContain(r => r.Packet.Length == r.OriginalLength);
            records.Select(r => r.Timestamp).Should().BeInAscendingOrder();
        }
    }

    [Fact]
    public async Task Capture_EndsWhenTheNodeIsDisposed_AndRejectsBadStreams()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (b)
        {
            var file = new MemoryStream();
            var capture = a.CapturePcapAsync(file, CancellationToken.None);
            var readOnly = async () => await a.CapturePcapAsync(new MemoryStream([], writable: false), CancellationToken.None);
            await readOnly.Should().ThrowAsync<ArgumentException>();

            await a.DisposeAsync();
            await capture.WaitAsync(TimeSpan.FromSeconds(10), cts.Token);
            file.Length.Should().BeGreaterThanOrEqualTo(24, "the pcap header is written at once");

            var afterDispose = async () => await a.CapturePcapAsync(new MemoryStream(), CancellationToken.None);
            await afterDispose.Should().ThrowAsync<ObjectDisposedException>();
        }
    }

    [Fact]
    public async Task Capture_IntoAStuckStream_NeverSlowsTheNode_AndStopsWithinTheGracePeriod()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var stuck = new StuckStream();
            using var stopCapture = new CancellationTokenSource();
            var capture = a.CapturePcapAsync(stuck, stopCapture.Token);

            // Far more packets than the capture queue holds: the node must keep going while the stream never drains.
            await using var listener = await b.ListenTcpAsync(7001, cts.Token);
            var accept = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("bee:7001", cts.Token);
            await using var server = await accept ?? throw new InvalidOperationException("no connection");
            var payload = new byte[8 * 1024 * 1024];
            var drain = server.CopyToAsync(Stream.Null, cts.Token);
            await client.WriteAsync(payload, cts.Token);
            await client.ShutdownWriteAsync(cts.Token);
            await drain;

            await stopCapture.CancelAsync();
            var stopped = capture.WaitAsync(TimeSpan.FromSeconds(10), cts.Token);
            await stopped; // completes (normally) once the grace period for the stuck stream runs out
            stuck.Writes.Should().BeGreaterThanOrEqualTo(1);
        }
    }

    private static bool IsIcmpV4(PcapRecord r, string source, string destination, int type) =>
        r.Packet[0] >> 4 == 4 && r.Packet[9] == 1
        && new IPAddress(r.Packet.AsSpan(12, 4)).ToString() == source
        && new IPAddress(r.Packet.AsSpan(16, 4)).ToString() == destination
        && r.Packet[(r.Packet[0] & 0xF) * 4] == type;

    private static bool IsTcp(PcapRecord r, int? sourcePort = null, int? destinationPort = null, int flags = 0)
    {
        if (r.Packet[0] >> 4 != 4 || r.Packet[9] != 6)
        {
            return false;
        }

        var tcp = r.Packet.AsSpan((r.Packet[0] & 0xF) * 4);
        return (sourcePort is null || BinaryPrimitives.ReadUInt16BigEndian(tcp) == sourcePort)
            && (destinationPort is null || BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]) == destinationPort)
            && (tcp[13] & 0x3F) == flags;
    }

    internal static List<PcapRecord> ParsePcap(byte[] file)
    {
        file.Length.Should().BeGreaterThanOrEqualTo(24);
        BinaryPrimitives.ReadUInt32LittleEndian(file).Should().Be(0xA1B2C3D4u, "little-endian microsecond pcap magic");
        BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4)).Should().Be(2);
        BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(6)).Should().Be(4);
        BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20)).Should().Be(101u, "LINKTYPE_RAW");
        var records = new List<PcapRecord>();
        var offset = 24;
        while (offset < file.Length)
        {
            (file.Length - offset).Should().BeGreaterThanOrEqualTo(16, "no truncated record header");
            var seconds = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset));
            var micros = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 4));
            var captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 8));
            var original = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 12));
            micros.Should().BeLessThan(1_000_000u);
            offset += 16;
            (file.Length - offset).Should().BeGreaterThanOrEqualTo(captured, "no truncated record");
            records.Add(new PcapRecord(DateTimeOffset.UnixEpoch.AddSeconds(seconds).AddTicks(micros * 10L), file.AsSpan(offset, captured).ToArray(), original));
            offset += captured;
        }

        return records;
    }

    internal sealed record PcapRecord(DateTimeOffset Timestamp, byte[] Packet, int OriginalLength);

    /// <summary>A destination whose writes after the header never complete (until cancelled).</summary>
    private sealed class StuckStream : Stream
    {
        public int Writes;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref Writes) == 1)
            {
                return; // the pcap header
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
