using TsNet.Packets;

namespace TsNet.Tests.Packets;

public sealed class UdpDatagramTests
{
    [Fact]
    public void Ipv4Dns_Fields()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4UdpDns, out var ip).Should().BeTrue();
        UdpDatagram.TryCreate(ip.Payload, out var udp).Should().BeTrue();
        udp.SourcePort.Should().Be(53124);
        udp.DestinationPort.Should().Be(53);
        udp.Length.Should().Be(37);
        udp.Checksum.Should().Be(0x87a5);
        udp.Payload.Length.Should().Be(29);
        udp.Payload[0].Should().Be(0xab);
        udp.IsChecksumValidIpv4(ip.Source, ip.Destination).Should().BeTrue();
    }

    [Fact]
    public void Ipv6_Fields()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6Udp, out var ip).Should().BeTrue();
        UdpDatagram.TryCreate(ip.Payload, out var udp).Should().BeTrue();
        udp.SourcePort.Should().Be(40000);
        udp.DestinationPort.Should().Be(5353);
        System.Text.Encoding.ASCII.GetString(udp.Payload).Should().Be("hello tailnet");
        udp.IsChecksumValidIpv6(ip.Source, ip.Destination).Should().BeTrue();
    }

    [Fact]
    public void ZeroChecksum_IsAcceptedOnIpv4Only()
    {
        var v4 = PacketFixtures.Ipv4UdpDns.AsSpan(20).ToArray();
        v4[6] = 0;
        v4[7] = 0;
        UdpDatagram.TryCreate(v4, out var udp4).Should().BeTrue();
        udp4.IsChecksumValidIpv4(PacketFixtures.Ipv4UdpDns.AsSpan(12, 4), PacketFixtures.Ipv4UdpDns.AsSpan(16, 4)).Should().BeTrue();

        var v6 = PacketFixtures.Ipv6Udp.AsSpan(40).ToArray();
        v6[6] = 0;
        v6[7] = 0;
        UdpDatagram.TryCreate(v6, out var udp6).Should().BeTrue();
        udp6.IsChecksumValidIpv6(PacketFixtures.Ipv6Udp.AsSpan(8, 16), PacketFixtures.Ipv6Udp.AsSpan(24, 16)).Should().BeFalse();
    }

    [Fact]
    public void BadChecksum_IsRejected()
    {
        var bytes = PacketFixtures.Ipv4UdpDns.AsSpan(20).ToArray();
        bytes[^1] ^= 0x40;
        UdpDatagram.TryCreate(bytes, out var udp).Should().BeTrue();
        udp.IsChecksumValidIpv4(PacketFixtures.Ipv4UdpDns.AsSpan(12, 4), PacketFixtures.Ipv4UdpDns.AsSpan(16, 4)).Should().BeFalse();
    }

    [Fact]
    public void LengthField_IsChecked()
    {
        var bytes = PacketFixtures.Ipv4UdpDns.AsSpan(20).ToArray();
        for (int length = 0; length < bytes.Length; length++)
        {
            UdpDatagram.TryCreate(bytes.AsSpan(0, length), out _).Should().BeFalse();
        }

        bytes[5] = 7; // length 7 < header
        UdpDatagram.TryCreate(bytes, out _).Should().BeFalse();
    }

    [Fact]
    public void WriteHeader_FillChecksum_ReproduceFixture()
    {
        var packet = PacketFixtures.Ipv4UdpDns;
        var datagram = packet.AsSpan(20).ToArray();
        datagram.AsSpan(0, 8).Clear();
        UdpDatagram.WriteHeader(datagram, 53124, 53, datagram.Length - 8);
        UdpDatagram.FillChecksum(datagram, InternetChecksum.PseudoHeaderIpv4(packet.AsSpan(12, 4), packet.AsSpan(16, 4), IpProtocol.Udp, datagram.Length));
        datagram.Should().Equal(packet.AsSpan(20).ToArray());
    }

    [Fact]
    public void FillChecksum_ComputedZero_IsSentAsAllOnes()
    {
        // Find a 2-byte payload that makes the computed checksum zero (the words sum to 0xFFFF).
        var datagram = new byte[10];
        UdpDatagram.WriteHeader(datagram, 0x1234, 0x5678, 2);
        for (int value = 0; value <= ushort.MaxValue; value++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(8), (ushort)value);
            if (InternetChecksum.Compute(datagram) == 0)
            {
                break;
            }
        }

        InternetChecksum.Compute(datagram).Should().Be(0);

        UdpDatagram.FillChecksum(datagram, 0);
        datagram[6].Should().Be(0xFF);
        datagram[7].Should().Be(0xFF);
    }
}
