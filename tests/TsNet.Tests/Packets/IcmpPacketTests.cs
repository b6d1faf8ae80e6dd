using TsNet.Packets;

namespace TsNet.Tests.Packets;

public sealed class IcmpPacketTests
{
    [Fact]
    public void Icmpv4EchoRequest_Fields()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4EchoRequest, out var ip).Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv4Type.EchoRequest);
        icmp.Code.Should().Be(0);
        icmp.Checksum.Should().Be(0x1565);
        icmp.IsChecksumValid().Should().BeTrue();
        icmp.Identifier.Should().Be(0x1c46);
        icmp.SequenceNumber.Should().Be(1);
        icmp.Payload.Length.Should().Be(48);
        icmp.Payload[8].Should().Be(0x10);
        icmp.RestOfHeader.ToArray().Should().Equal(0x1c, 0x46, 0x00, 0x01);
    }

    [Fact]
    public void Icmpv4EchoReply_Fields()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4EchoReply, out var ip).Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv4Type.EchoReply);
        icmp.IsChecksumValid().Should().BeTrue();
        icmp.Identifier.Should().Be(0x1c46);
        icmp.SequenceNumber.Should().Be(1);
    }

    [Fact]
    public void Icmpv4FragmentationNeeded_CarriesMtuAndInvokingPacket()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4FragmentationNeeded, out var ip).Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv4Type.DestinationUnreachable);
        icmp.Code.Should().Be(Icmpv4Type.FragmentationNeededCode);
        icmp.NextHopMtu.Should().Be(1280);
        icmp.IsChecksumValid().Should().BeTrue();
        Ipv4Packet.TryCreate(icmp.Payload, out _).Should().BeFalse("only the first 28 bytes of the invoking packet are quoted");
        icmp.Payload[..20].ToArray().Should().Equal(PacketFixtures.Ipv4UdpDns.AsSpan(0, 20).ToArray());
    }

    [Fact]
    public void Icmpv4_BadChecksum_AndShortMessage()
    {
        var bytes = PacketFixtures.Ipv4EchoRequest.AsSpan(20).ToArray();
        bytes[^1] ^= 1;
        Icmpv4Packet.TryCreate(bytes, out var icmp).Should().BeTrue();
        icmp.IsChecksumValid().Should().BeFalse();
        for (int length = 0; length < Icmpv4Packet.HeaderLength; length++)
        {
            Icmpv4Packet.TryCreate(bytes.AsSpan(0, length), out _).Should().BeFalse();
        }
    }

    [Fact]
    public void Icmpv4_SetTypeAndFillChecksum_TurnsRequestIntoKnownReplyMessage()
    {
        var message = PacketFixtures.Ipv4EchoRequest.AsSpan(20).ToArray();
        Icmpv4Packet.SetType(message, Icmpv4Type.EchoReply);
        Icmpv4Packet.FillChecksum(message);
        message.Should().Equal(PacketFixtures.Ipv4EchoReply.AsSpan(20).ToArray());
    }

    [Fact]
    public void Icmpv6Echo_Fields()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6EchoRequest, out var ip).Should().BeTrue();
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv6Type.EchoRequest);
        icmp.Code.Should().Be(0);
        icmp.Checksum.Should().Be(0x2cbd);
        icmp.IsChecksumValid(ip.Source, ip.Destination).Should().BeTrue();
        icmp.IsChecksumValid(ip.Destination, ip.Source).Should().BeTrue("the pseudo-header sum does not depend on address order");
        icmp.Identifier.Should().Be(0x2b07);
        icmp.SequenceNumber.Should().Be(3);
        icmp.Payload.Length.Should().Be(48);
    }

    [Fact]
    public void Icmpv6_SetTypeAndFillChecksum_TurnsRequestIntoKnownReplyMessage()
    {
        var request = PacketFixtures.Ipv6EchoRequest;
        var message = request.AsSpan(40).ToArray();
        Icmpv6Packet.SetType(message, Icmpv6Type.EchoReply);

        // The reply travels B → A.
        Icmpv6Packet.FillChecksum(message, request.AsSpan(24, 16), request.AsSpan(8, 16));
        message.Should().Equal(PacketFixtures.Ipv6EchoReply.AsSpan(40).ToArray());
    }

    [Fact]
    public void Icmpv6PacketTooBig_Fields()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6PacketTooBig, out var ip).Should().BeTrue();
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv6Type.PacketTooBig);
        icmp.Mtu.Should().Be(1280u);
        icmp.IsChecksumValid(ip.Source, ip.Destination).Should().BeTrue();
        icmp.Payload.ToArray().Should().Equal(PacketFixtures.Ipv6Udp.AsSpan(0, 48).ToArray());
    }

    [Fact]
    public void Icmpv6_WrongAddresses_FailChecksum()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6EchoRequest, out var ip).Should().BeTrue();
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        var other = ip.Source.ToArray();
        other[15] = 9;
        icmp.IsChecksumValid(other, ip.Destination).Should().BeFalse();
    }
}
