using TsNet.Packets;

namespace TsNet.Tests.Packets;

public sealed class IcmpQuotedPacketTests
{
    [Fact]
    public void Ipv4Quote_FromTheFragmentationNeededFixture()
    {
        Ipv4Packet.TryCreate(PacketFixtures.Ipv4FragmentationNeeded, out var ip).Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.NextHopMtu.Should().Be(1280);
        IcmpQuotedPacket.TryCreateIpv4(icmp.Payload, out var quoted).Should().BeTrue();
        quoted.IsIpv6.Should().BeFalse();
        quoted.Protocol.Should().Be(IpProtocol.Udp);
        quoted.SourceValue.Should().Be((UInt128)0x6440_0001u);
        quoted.DestinationValue.Should().Be((UInt128)0x6464_6464u);
        quoted.TryGetPorts(out var source, out var destination).Should().BeTrue();
        source.Should().Be(53124);
        destination.Should().Be(53);
        quoted.Transport.Length.Should().Be(8, "the quote stops after 8 bytes although the quoted header says 57");
    }

    [Fact]
    public void Ipv6Quote_FromThePacketTooBigFixture()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6PacketTooBig, out var ip).Should().BeTrue();
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Mtu.Should().Be(1280u);
        IcmpQuotedPacket.TryCreateIpv6(icmp.Payload, out var quoted).Should().BeTrue();
        quoted.IsIpv6.Should().BeTrue();
        quoted.Protocol.Should().Be(IpProtocol.Udp);
        quoted.TryGetPorts(out var source, out var destination).Should().BeTrue();
        source.Should().Be(40000);
        destination.Should().Be(5353);
    }

    [Fact]
    public void Ipv6Quote_WalksExtensionHeaders_AndSeesLaterFragments()
    {
        IcmpQuotedPacket.TryCreateIpv6(PacketFixtures.Ipv6ExtensionEcho, out var quoted).Should().BeTrue();
        quoted.Protocol.Should().Be(IpProtocol.Icmpv6);
        quoted.Transport[0].Should().Be(Icmpv6Type.EchoRequest);

        IcmpQuotedPacket.TryCreateIpv6(PacketFixtures.Ipv6Fragment, out var first).Should().BeTrue();
        first.Protocol.Should().Be(IpProtocol.Icmpv6);
        first.IsLaterFragment.Should().BeFalse();

        var later = (byte[])PacketFixtures.Ipv6Fragment.Clone();
        later[43] = 0x10;
        IcmpQuotedPacket.TryCreateIpv6(later, out var laterQuoted).Should().BeTrue();
        laterQuoted.IsLaterFragment.Should().BeTrue();
        laterQuoted.Transport.IsEmpty.Should().BeTrue();
        laterQuoted.TryGetPorts(out _, out _).Should().BeFalse();
    }

    [Fact]
    public void Ipv4Quote_OfALaterFragment_HasNoPorts()
    {
        IcmpQuotedPacket.TryCreateIpv4(PacketFixtures.Ipv4FragmentLast, out var quoted).Should().BeTrue();
        quoted.IsLaterFragment.Should().BeTrue();
        quoted.TryGetPorts(out _, out _).Should().BeFalse();
    }

    [Fact]
    public void TruncatedOrWrongVersion_IsRejected()
    {
        IcmpQuotedPacket.TryCreateIpv4(PacketFixtures.Ipv4UdpDns.AsSpan(0, 19), out _).Should().BeFalse();
        IcmpQuotedPacket.TryCreateIpv4(PacketFixtures.Ipv4OptionsEcho.AsSpan(0, 22), out _).Should().BeFalse("options cut short");
        IcmpQuotedPacket.TryCreateIpv4(PacketFixtures.Ipv6Udp, out _).Should().BeFalse();
        IcmpQuotedPacket.TryCreateIpv6(PacketFixtures.Ipv6Udp.AsSpan(0, 39), out _).Should().BeFalse();
        IcmpQuotedPacket.TryCreateIpv6(PacketFixtures.Ipv4UdpDns, out _).Should().BeFalse();
        IcmpQuotedPacket.TryCreateIpv6(PacketFixtures.Ipv6ExtensionEcho.AsSpan(0, 45), out _).Should().BeFalse("extension header cut short");

        IcmpQuotedPacket.TryCreateIpv4(PacketFixtures.Ipv4UdpDns.AsSpan(0, 22), out var noPorts).Should().BeTrue();
        noPorts.TryGetPorts(out _, out _).Should().BeFalse();
    }

    [Fact]
    public void EveryPrefixAndBitFlip_OfEveryFixture_NeverThrows()
    {
        foreach (var fixture in PacketFixtures.All)
        {
            for (int length = 0; length <= fixture.Length; length++)
            {
                Parse(fixture.AsSpan(0, length));
            }

            var copy = (byte[])fixture.Clone();
            for (int bit = 0; bit < Math.Min(copy.Length, 80) * 8; bit++)
            {
                copy[bit / 8] ^= (byte)(1 << (bit % 8));
                Parse(copy);
                copy[bit / 8] ^= (byte)(1 << (bit % 8));
            }
        }

        static void Parse(ReadOnlySpan<byte> bytes)
        {
            if (IcmpQuotedPacket.TryCreateIpv4(bytes, out var v4))
            {
                _ = v4.SourceValue + v4.DestinationValue;
                v4.TryGetPorts(out _, out _);
            }

            if (IcmpQuotedPacket.TryCreateIpv6(bytes, out var v6))
            {
                _ = v6.SourceValue + v6.DestinationValue;
                v6.TryGetPorts(out _, out _);
            }
        }
    }

    [Fact]
    public void ErrorBuilder_WritesCheckedMessages_AndKnowsErrorTypes()
    {
        var packet = new byte[100];
        int length = IcmpErrorBuilder.WriteIpv4(packet, 0x6440_0002, 0x6440_0001, Icmpv4Type.DestinationUnreachable, 3, 0, PacketFixtures.Ipv4UdpDns.AsSpan(0, 28));
        length.Should().Be(56);
        Ipv4Packet.TryCreate(packet.AsSpan(0, length), out var ip).Should().BeTrue();
        ip.IsChecksumValid().Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.IsChecksumValid().Should().BeTrue();

        IcmpErrorBuilder.Ipv4QuoteLength(headerLength: 24, totalLength: 500).Should().Be(32);
        IcmpErrorBuilder.Ipv4QuoteLength(headerLength: 20, totalLength: 25).Should().Be(25);
        IcmpErrorBuilder.Ipv6QuoteLength(2000).Should().Be(1232);
        IcmpErrorBuilder.IsIpv4Error(Icmpv4Type.DestinationUnreachable).Should().BeTrue();
        IcmpErrorBuilder.IsIpv4Error(Icmpv4Type.TimeExceeded).Should().BeTrue();
        IcmpErrorBuilder.IsIpv4Error(Icmpv4Type.EchoRequest).Should().BeFalse();
        IcmpErrorBuilder.IsIpv6Error(Icmpv6Type.PacketTooBig).Should().BeTrue();
        IcmpErrorBuilder.IsIpv6Error(Icmpv6Type.EchoReply).Should().BeFalse();
        FluentActions.Invoking(() => IcmpErrorBuilder.WriteIpv4(new byte[30], 1, 2, 3, 3, 0, new byte[28])).Should().Throw<ArgumentException>();
    }
}
