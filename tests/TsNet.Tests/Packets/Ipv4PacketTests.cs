using System.Net;
using TsNet.Packets;

namespace TsNet.Tests.Packets;

public sealed class Ipv4PacketTests
{
    [Fact]
    public void EchoRequest_Fields()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4EchoRequest, out var ip).Should().BeTrue();
        ip.HeaderLength.Should().Be(20);
        ip.TotalLength.Should().Be(76);
        ip.Dscp.Should().Be(0);
        ip.Ecn.Should().Be(0);
        ip.Identification.Should().Be(0x5d3e);
        ip.DontFragment.Should().BeTrue();
        ip.MoreFragments.Should().BeFalse();
        ip.FragmentOffset.Should().Be(0);
        ip.IsFragment.Should().BeFalse();
        ip.TimeToLive.Should().Be(64);
        ip.Protocol.Should().Be(IpProtocol.Icmp);
        ip.Checksum.Should().Be(0x14f0);
        ip.IsChecksumValid().Should().BeTrue();
        ip.GetSourceAddress().Should().Be(IPAddress.Parse("100.64.0.1"));
        ip.GetDestinationAddress().Should().Be(IPAddress.Parse("100.64.0.2"));
        ip.SourceValue.Should().Be(0x64400001u);
        ip.DestinationValue.Should().Be(0x64400002u);
        ip.Options.IsEmpty.Should().BeTrue();
        ip.Payload.Length.Should().Be(48 + 8);
        ip.Payload[0].Should().Be(Icmpv4Type.EchoRequest);
    }

    [Fact]
    public void WikipediaHeader_Fields()
    {
        Ipv4Packet.TryCreate(PacketFixtures.WikipediaIpv4, out var ip).Should().BeTrue();
        ip.Protocol.Should().Be(IpProtocol.Udp);
        ip.Checksum.Should().Be(0xb861);
        ip.IsChecksumValid().Should().BeTrue();
        ip.GetSourceAddress().Should().Be(IPAddress.Parse("192.168.0.1"));
        ip.GetDestinationAddress().Should().Be(IPAddress.Parse("192.168.0.199"));
        ip.Payload.Length.Should().Be(95);
    }

    [Fact]
    public void Options_AreSkipped_PayloadHonoursIhl()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4OptionsEcho, out var ip).Should().BeTrue();
        ip.HeaderLength.Should().Be(24);
        ip.Options.ToArray().Should().Equal(0x94, 0x04, 0x00, 0x00);
        ip.IsChecksumValid().Should().BeTrue();
        ip.Payload[0].Should().Be(Icmpv4Type.EchoRequest);
        ip.Payload.Length.Should().Be(12);
    }

    [Fact]
    public void TrailingPadding_IsCutOffAtTotalLength()
    {
        byte[] padded = [.. PacketFixtures.Ipv4EchoRequest, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Ipv4Packet.TryCreate(padded, out var ip).Should().BeTrue();
        ip.Bytes.Length.Should().Be(PacketFixtures.Ipv4EchoRequest.Length);
        ip.Payload.Length.Should().Be(56);
    }

    [Fact]
    public void Fragments_AreDetected()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4FragmentFirst, out var first).Should().BeTrue();
        first.IsChecksumValid().Should().BeTrue();
        first.MoreFragments.Should().BeTrue();
        first.FragmentOffset.Should().Be(0);
        first.IsFragment.Should().BeTrue();

        Ipv4Packet.TryCreate(PacketFixtures.Ipv4FragmentLast, out var last).Should().BeTrue();
        last.MoreFragments.Should().BeFalse();
        last.FragmentOffset.Should().Be(24);
        last.IsFragment.Should().BeTrue();

        Ipv4Header.TryParse(first, out _).Should().BeFalse();
        Ipv4Header.TryParse(last, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("45")]
    [InlineData("4500001400000000400100006440000164400002ff")] // a bare 20-byte header plus one byte of link padding
    public void ShortOrValidMinimal(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        Ipv4Packet.TryCreate(bytes, out var ip).Should().Be(bytes.Length >= 20);
        if (bytes.Length >= 20)
        {
            ip.Payload.IsEmpty.Should().BeTrue();
        }
    }

    [Fact]
    public void Rejects_WrongVersion_BadIhl_BadTotalLength()
    {
        var good = PacketFixtures.Ipv4EchoRequest;

        var v6 = (byte[])good.Clone();
        v6[0] = 0x65;
        Ipv4Packet.TryCreate(v6, out _).Should().BeFalse();

        var ihl4 = (byte[])good.Clone();
        ihl4[0] = 0x44;
        Ipv4Packet.TryCreate(ihl4, out _).Should().BeFalse();

        var ihlPastTotal = (byte[])good.Clone();
        ihlPastTotal[0] = 0x4F; // 60-byte header
        ihlPastTotal[2] = 0;
        ihlPastTotal[3] = 40; // total length 40 < 60
        Ipv4Packet.TryCreate(ihlPastTotal, out _).Should().BeFalse();

        var totalTooLong = (byte[])good.Clone();
        totalTooLong[3] = (byte)(good.Length + 1);
        Ipv4Packet.TryCreate(totalTooLong, out _).Should().BeFalse();

        var totalTooShort = (byte[])good.Clone();
        totalTooShort[3] = 19;
        Ipv4Packet.TryCreate(totalTooShort, out _).Should().BeFalse();

        for (int length = 0; length < good.Length; length++)
        {
            Ipv4Packet.TryCreate(good.AsSpan(0, length), out _).Should().BeFalse("truncated to {0}", length);
        }
    }

    [Fact]
    public void BadChecksum_IsReported()
    {
        var bytes = (byte[])PacketFixtures.Ipv4EchoRequest.Clone();
        bytes[8] = 63; // TTL changed without updating the checksum
        Ipv4Packet.TryCreate(bytes, out var ip).Should().BeTrue();
        ip.IsChecksumValid().Should().BeFalse();
        Ipv4Header.TryParse(ip, out _).Should().BeFalse();
    }

    [Fact]
    public void SetTimeToLive_FillChecksum_ProduceValidHeader()
    {
        var bytes = (byte[])PacketFixtures.Ipv4OptionsEcho.Clone();
        Ipv4Packet.SetTimeToLive(bytes, 1);
        Ipv4Packet.FillChecksum(bytes);
        Ipv4Packet.TryCreate(bytes, out var ip).Should().BeTrue();
        ip.TimeToLive.Should().Be(1);
        ip.IsChecksumValid().Should().BeTrue();
    }

    [Fact]
    public void Header_RoundTrips_AndEmitsKnownBytes()
    {
        Ipv4Packet.TryCreate(PacketFixtures.TsmpIpv4, out var ip).Should().BeTrue();
        Ipv4Header.TryParse(ip, out var header).Should().BeTrue();
        header.Should().Be(new Ipv4Header(0x01020304, 0x04030201, 99, 64, 33));

        // TsNet sends DF with ID 0; everything else matches the tailscale fixture.
        var emitted = new byte[20];
        header.Emit(emitted);
        Ipv4Packet.TryCreate([.. emitted, .. ip.Payload], out var again).Should().BeTrue();
        again.IsChecksumValid().Should().BeTrue();
        again.DontFragment.Should().BeTrue();
        Ipv4Header.TryParse(again, out var reparsed).Should().BeTrue();
        reparsed.Should().Be(header);
        Convert.ToHexString(emitted).Should().Be("45000035000040004063305D0102030404030201");
    }

    [Fact]
    public void AddressConversions_RoundTrip()
    {
        var address = IPAddress.Parse("100.101.102.103");
        Ipv4Header.ToValue(address).Should().Be(0x64656667u);
        Ipv4Header.ToAddress(0x64656667u).Should().Be(address);
        FluentActions.Invoking(() => Ipv4Header.ToValue(IPAddress.IPv6Loopback)).Should().Throw<ArgumentException>();
    }
}
