using TsNet.Netstack.Tcp;
using TsNet.Packets;
using TsNet.Tests.Packets;

namespace TsNet.Tests.Netstack.Tcp;

public sealed class TcpHeaderTests
{
    // Linux SYN: 02 04 05b4 | 04 02 08 0a tsval tsecr | 01 03 03 07
    private static readonly byte[] LinuxSyn = PacketFixtures.Ipv4TcpSyn[20..];

    // PSH|ACK with NOP NOP TS and 18 bytes of data (from the IPv6 fixture).
    private static readonly byte[] LinuxData = PacketFixtures.Ipv6TcpData[40..];

    [Fact]
    public void LinuxSyn_ParsesAllOptions()
    {
        TcpHeader.TryParse(LinuxSyn, out var header, out var payload).Should().BeTrue();
        payload.IsEmpty.Should().BeTrue();
        header.SourcePort.Should().Be(51000);
        header.DestinationPort.Should().Be(443);
        header.SequenceNumber.Should().Be(new SeqNum(0x3a2f1b0c));
        header.Flags.Should().Be(TcpFlags.Syn);
        header.Window.Should().Be(64240);
        header.MaxSegmentSize.Should().Be(1460);
        header.SackPermitted.Should().BeTrue();
        header.Timestamps.Should().Be(new TcpTimestamps(0x0a1b2c3d, 0));
        header.WindowScale.Should().Be(7);
        header.Sack.Count.Should().Be(0);
    }

    [Fact]
    public void LinuxSyn_EmitsSameBytes()
    {
        TcpHeader.TryParse(LinuxSyn, out var header, out _).Should().BeTrue();
        var buffer = new byte[TcpHeader.MaxLength];
        int length = header.Emit(buffer);
        length.Should().Be(40);
        header.Length.Should().Be(40);
        var expected = (byte[])LinuxSyn.Clone();
        expected[16] = 0; // Emit leaves the checksum to the caller.
        expected[17] = 0;
        Convert.ToHexString(buffer, 0, length).Should().Be(Convert.ToHexString(expected));
    }

    [Fact]
    public void LinuxData_ParsesTimestampsAndPayload()
    {
        TcpHeader.TryParse(LinuxData, out var header, out var payload).Should().BeTrue();
        header.Flags.Should().Be(TcpFlags.Psh | TcpFlags.Ack);
        header.Timestamps.Should().Be(new TcpTimestamps(0x0a1b2c40, 0x77665544));
        header.MaxSegmentSize.Should().BeNull();
        payload.Length.Should().Be(18);

        var buffer = new byte[TcpHeader.MaxLength];
        header.Emit(buffer).Should().Be(32);
        Convert.ToHexString(buffer, 20, 12).Should().Be("0101080A0A1B2C4077665544");
    }

    [Fact]
    public void SackBlocks_RoundTrip_WithTimestamps_KeepsThree()
    {
        var header = new TcpHeader
        {
            SourcePort = 1,
            DestinationPort = 2,
            Flags = TcpFlags.Ack,
            Timestamps = new TcpTimestamps(7, 8),
            Sack = SackBlocks.Empty
                .Add(new SackBlock(new SeqNum(100), new SeqNum(200)))
                .Add(new SackBlock(new SeqNum(300), new SeqNum(400)))
                .Add(new SackBlock(new SeqNum(500), new SeqNum(600)))
                .Add(new SackBlock(new SeqNum(700), new SeqNum(800))),
        };
        header.OptionsLength.Should().Be(40);
        var buffer = new byte[TcpHeader.MaxLength];
        int length = header.Emit(buffer);
        length.Should().Be(60);
        Convert.ToHexString(buffer, 32, 4).Should().Be("0101051A");

        TcpHeader.TryParse(buffer.AsSpan(0, length), out var parsed, out _).Should().BeTrue();
        parsed.Should().Be(header with { Sack = header.Sack.Take(3) });
    }

    [Fact]
    public void SackBlocks_WithoutTimestamps_KeepsFour()
    {
        var sack = SackBlocks.Empty;
        for (uint i = 0; i < 4; i++)
        {
            sack = sack.Add(new SackBlock(new SeqNum(i * 10), new SeqNum((i * 10) + 5)));
        }

        var header = new TcpHeader { Flags = TcpFlags.Ack, Sack = sack };
        var buffer = new byte[TcpHeader.MaxLength];
        int length = header.Emit(buffer);
        length.Should().Be(56);
        TcpHeader.TryParse(buffer.AsSpan(0, length), out var parsed, out _).Should().BeTrue();
        parsed.Should().Be(header);
    }

    [Fact]
    public void SynAck_WithoutTimestamps_RoundTrips()
    {
        var header = new TcpHeader
        {
            SourcePort = 80,
            DestinationPort = 40000,
            SequenceNumber = new SeqNum(uint.MaxValue),
            AcknowledgmentNumber = new SeqNum(12345),
            Flags = TcpFlags.Syn | TcpFlags.Ack,
            Window = 65535,
            MaxSegmentSize = 1240,
            SackPermitted = true,
            WindowScale = 7,
        };
        var buffer = new byte[TcpHeader.MaxLength];
        int length = header.Emit(buffer);
        length.Should().Be(32);
        Convert.ToHexString(buffer, 20, 12).Should().Be("020404D8010104020103030" + "7");
        TcpHeader.TryParse(buffer.AsSpan(0, length), out var parsed, out _).Should().BeTrue();
        parsed.Should().Be(header);
    }

    [Fact]
    public void UnknownOptions_AreSkipped()
    {
        // MSS, then TFO cookie (kind 34, len 10), then EOL and garbage after it.
        var bytes = Segment("020405B4" + "220A0102030405060708" + "0000" + "FFFF");
        TcpHeader.TryParse(bytes, out var header, out _).Should().BeTrue();
        header.MaxSegmentSize.Should().Be(1460);
    }

    [Theory]
    [InlineData("020305B4")] // MSS with length 3
    [InlineData("02050000000000000000")] // MSS with length 5 (padded so the header stays aligned)
    [InlineData("03020101")] // window scale with length 2
    [InlineData("04030000")] // SACK-permitted with length 3
    [InlineData("080800000000000001010101")] // timestamps with length 8
    [InlineData("050200000000")] // SACK with no blocks
    [InlineData("0506000000000000")] // SACK with a partial block
    [InlineData("01010109")] // option length beyond the option space
    [InlineData("01010301")] // length 1
    [InlineData("01010102")] // an option kind without room for its length byte
    public void MalformedOptions_FailToParse(string options)
    {
        TcpHeader.TryParse(Segment(options), out _, out _).Should().BeFalse();
    }

    [Fact]
    public void TruncatedHeader_FailsToParse()
    {
        TcpHeader.TryParse(new byte[19], out _, out _).Should().BeFalse();
        var bytes = Segment("020405B4");
        TcpHeader.TryParse(bytes.AsSpan(0, 22), out _, out _).Should().BeFalse();
    }

    [Fact]
    public void SegmentLength_CountsSynAndFin()
    {
        new TcpHeader { Flags = TcpFlags.Syn | TcpFlags.Fin }.SegmentLength(10).Should().Be(12);
        new TcpHeader { Flags = TcpFlags.Ack }.SegmentLength(10).Should().Be(10);
    }

    /// <summary>A 20-byte ACK header from port 1 to 2 with <paramref name="optionsHex"/> (a multiple of 4 bytes).</summary>
    private static byte[] Segment(string optionsHex)
    {
        byte[] options = Convert.FromHexString(optionsHex);
        var bytes = new byte[20 + options.Length];
        bytes[1] = 1;
        bytes[3] = 2;
        bytes[12] = (byte)(((20 + options.Length) / 4) << 4);
        bytes[13] = (byte)TcpFlags.Ack;
        options.CopyTo(bytes, 20);
        return bytes;
    }
}
