using TsNet.Packets;

namespace TsNet.Tests.Packets;

public sealed class TcpSegmentTests
{
    [Fact]
    public void LinuxSyn_Fields()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4TcpSyn, out var ip).Should().BeTrue();
        TcpSegment.TryCreate(ip.Payload, out var tcp).Should().BeTrue();
        tcp.SourcePort.Should().Be(51000);
        tcp.DestinationPort.Should().Be(443);
        tcp.SequenceNumber.Should().Be(0x3a2f1b0cu);
        tcp.AcknowledgmentNumber.Should().Be(0u);
        tcp.HeaderLength.Should().Be(40);
        tcp.Flags.Should().Be(TcpFlags.Syn);
        tcp.Window.Should().Be(64240);
        tcp.Checksum.Should().Be(0x3005);
        tcp.UrgentPointer.Should().Be(0);
        tcp.Options.Length.Should().Be(20);
        tcp.Payload.IsEmpty.Should().BeTrue();
        tcp.IsChecksumValidIpv4(ip.Source, ip.Destination).Should().BeTrue();
    }

    [Fact]
    public void LinuxSyn_Options()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4TcpSyn, out var ip).Should().BeTrue();
        TcpSegment.TryCreate(ip.Payload, out var tcp).Should().BeTrue();
        var reader = new TcpOptionReader(tcp.Options);
        var seen = new List<(byte Kind, string Data)>();
        while (reader.TryRead(out byte kind, out var data))
        {
            seen.Add((kind, Convert.ToHexString(data)));
        }

        reader.IsMalformed.Should().BeFalse();
        seen.Should().Equal(
            (TcpOptionKind.MaximumSegmentSize, "05B4"),
            (TcpOptionKind.SackPermitted, ""),
            (TcpOptionKind.Timestamps, "0A1B2C3D00000000"),
            (TcpOptionKind.WindowScale, "07"));
    }

    [Fact]
    public void Ipv6Data_Fields()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6TcpData, out var ip).Should().BeTrue();
        TcpSegment.TryCreate(ip.Payload, out var tcp).Should().BeTrue();
        tcp.Flags.Should().Be(TcpFlags.Psh | TcpFlags.Ack);
        tcp.AcknowledgmentNumber.Should().Be(0x10203040u);
        tcp.Window.Should().Be(502);
        tcp.HeaderLength.Should().Be(32);
        System.Text.Encoding.ASCII.GetString(tcp.Payload).Should().Be("GET / HTTP/1.1\r\n\r\n");
        tcp.IsChecksumValidIpv6(ip.Source, ip.Destination).Should().BeTrue();

        var reader = new TcpOptionReader(tcp.Options);
        reader.TryRead(out byte kind, out var data).Should().BeTrue();
        kind.Should().Be(TcpOptionKind.Timestamps);
        Convert.ToHexString(data).Should().Be("0A1B2C4077665544");
        reader.TryRead(out _, out _).Should().BeFalse();
        reader.IsMalformed.Should().BeFalse();
    }

    [Fact]
    public void FillChecksum_ReproducesFixture_AndCorruptionIsDetected()
    {
        var packet = PacketFixtures.Ipv6TcpData;
        var segment = packet.AsSpan(40).ToArray();
        segment[16] = 0;
        segment[17] = 0;
        TcpSegment.FillChecksum(segment, InternetChecksum.PseudoHeaderIpv6(packet.AsSpan(8, 16), packet.AsSpan(24, 16), IpProtocol.Tcp, segment.Length));
        segment.Should().Equal(packet.AsSpan(40).ToArray());

        segment[^1] ^= 0x20;
        TcpSegment.TryCreate(segment, out var tcp).Should().BeTrue();
        tcp.IsChecksumValidIpv6(packet.AsSpan(8, 16), packet.AsSpan(24, 16)).Should().BeFalse();
    }

    [Fact]
    public void DataOffset_IsChecked()
    {
        var segment = PacketFixtures.Ipv4TcpSyn.AsSpan(20).ToArray();
        for (int length = 0; length < segment.Length; length++)
        {
            TcpSegment.TryCreate(segment.AsSpan(0, length), out _).Should().BeFalse("header length 40 > {0}", length);
        }

        segment[12] = 0x40; // data offset 4 < 5
        TcpSegment.TryCreate(segment, out _).Should().BeFalse();
        segment[12] = 0xF0; // 60 > 40
        TcpSegment.TryCreate(segment, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("02", false)]            // kind without length
    [InlineData("0201", false)]          // length < 2
    [InlineData("020405", false)]        // length past the end
    [InlineData("0101010100", true)]     // NOPs then EOL
    [InlineData("", true)]
    [InlineData("fe0400000000", true)]   // unknown kind skipped by length, then EOL-free padding zeros end it
    public void OptionReader_Malformed(string hex, bool wellFormed)
    {
        var reader = new TcpOptionReader(Convert.FromHexString(hex));
        while (reader.TryRead(out _, out _))
        {
        }

        reader.IsMalformed.Should().Be(!wellFormed);
    }

    [Fact]
    public void OptionReader_StopsAtEndOfList()
    {
        var reader = new TcpOptionReader(Convert.FromHexString("0204058c00020405b4"));
        reader.TryRead(out byte kind, out var data).Should().BeTrue();
        kind.Should().Be(TcpOptionKind.MaximumSegmentSize);
        Convert.ToHexString(data).Should().Be("058C");
        reader.TryRead(out _, out _).Should().BeFalse();
        reader.IsMalformed.Should().BeFalse();
    }
}
