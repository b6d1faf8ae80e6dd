using System.Net;
using TsNet.Packets;

namespace TsNet.Tests.Packets;

public sealed class Ipv6PacketTests
{
    private static readonly IPAddress A = IPAddress.Parse("fd7a:115c:a1e0::1");
    private static readonly IPAddress B = IPAddress.Parse("fd7a:115c:a1e0::2");

    [Fact]
    public void EchoRequest_Fields()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6EchoRequest, out var ip).Should().BeTrue();
        ip.TrafficClass.Should().Be(0);
        ip.FlowLabel.Should().Be(0x5f1e2u);
        ip.PayloadLength.Should().Be(56);
        ip.NextHeader.Should().Be(IpProtocol.Icmpv6);
        ip.HopLimit.Should().Be(64);
        ip.GetSourceAddress().Should().Be(A);
        ip.GetDestinationAddress().Should().Be(B);
        ip.SourceValue.Should().Be(Ipv6Header.ToValue(A));
        ip.TryFindUpperLayer(out byte protocol, out int offset).Should().BeTrue();
        protocol.Should().Be(IpProtocol.Icmpv6);
        offset.Should().Be(40);
    }

    [Fact]
    public void TsmpFixture_Fields()
    {
        Ipv6Packet.TryCreate(PacketFixtures.TsmpIpv6, out var ip).Should().BeTrue();
        ip.PayloadLength.Should().Be(33);
        ip.NextHeader.Should().Be(99);
        ip.GetSourceAddress().Should().Be(IPAddress.Parse("2001:db8::1"));
        ip.GetDestinationAddress().Should().Be(IPAddress.Parse("2001:db8::2"));
        Ipv6Header.TryParse(ip, out var header, out int offset).Should().BeTrue();
        header.Should().Be(new Ipv6Header(ip.SourceValue, ip.DestinationValue, 99, 64, 33));
        offset.Should().Be(40);

        var emitted = new byte[40];
        header.Emit(emitted);
        emitted.Should().Equal(PacketFixtures.TsmpIpv6.AsSpan(0, 40).ToArray());
    }

    [Fact]
    public void ExtensionHeaders_AreWalked()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6ExtensionEcho, out var ip).Should().BeTrue();
        ip.NextHeader.Should().Be(IpProtocol.HopByHopOptions);
        ip.TryFindUpperLayer(out byte protocol, out int offset).Should().BeTrue();
        protocol.Should().Be(IpProtocol.Icmpv6);
        offset.Should().Be(56);
        Icmpv6Packet.TryCreate(ip.Bytes[offset..], out var icmp).Should().BeTrue();
        icmp.IsChecksumValid(ip.Source, ip.Destination).Should().BeTrue();
        icmp.SequenceNumber.Should().Be(4);
    }

    [Fact]
    public void FragmentHeader_IsReported()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6Fragment, out var ip).Should().BeTrue();
        ip.TryFindUpperLayer(out byte protocol, out int offset).Should().BeTrue();
        protocol.Should().Be(IpProtocol.Ipv6Fragment);
        offset.Should().Be(40);
        Ipv6Header.TryParse(ip, out _, out _).Should().BeFalse();
    }

    [Fact]
    public void HopByHop_NotFirst_IsMalformed()
    {
        // Destination options (next = hop-by-hop) followed by hop-by-hop.
        byte[] payload = [0, 0, 1, 4, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0];
        var packet = Build(IpProtocol.Ipv6DestinationOptions, payload);
        Ipv6Packet.TryCreate(packet, out var ip).Should().BeTrue();
        ip.TryFindUpperLayer(out _, out _).Should().BeFalse();
    }

    [Fact]
    public void ExtensionChain_LongerThanBound_IsMalformed()
    {
        byte[] Chain(int headers)
        {
            var chain = new byte[headers * 8];
            for (int i = 0; i < headers; i++)
            {
                chain[i * 8] = i == headers - 1 ? IpProtocol.Ipv6NoNextHeader : IpProtocol.Ipv6DestinationOptions;
                chain[(i * 8) + 2] = 1; // PadN, 4 bytes
                chain[(i * 8) + 3] = 4;
            }

            return chain;
        }

        var atBound = Build(IpProtocol.Ipv6DestinationOptions, Chain(Ipv6Packet.MaxExtensionHeaders));
        Ipv6Packet.TryCreate(atBound, out var ok).Should().BeTrue();
        ok.TryFindUpperLayer(out byte protocol, out int offset).Should().BeTrue();
        protocol.Should().Be(IpProtocol.Ipv6NoNextHeader);
        offset.Should().Be(40 + (8 * Ipv6Packet.MaxExtensionHeaders));

        var overBound = Build(IpProtocol.Ipv6DestinationOptions, Chain(Ipv6Packet.MaxExtensionHeaders + 1));
        Ipv6Packet.TryCreate(overBound, out var tooMany).Should().BeTrue();
        tooMany.TryFindUpperLayer(out _, out _).Should().BeFalse();
    }

    [Fact]
    public void ExtensionHeader_LengthPastEnd_IsMalformed()
    {
        // Routing header claims 16 bytes, only 8 present.
        var packet = Build(IpProtocol.Ipv6Routing, [IpProtocol.Icmpv6, 1, 0, 0, 0, 0, 0, 0]);
        Ipv6Packet.TryCreate(packet, out var ip).Should().BeTrue();
        ip.TryFindUpperLayer(out _, out _).Should().BeFalse();

        // Fewer than 8 bytes left for an extension header.
        var shortPacket = Build(IpProtocol.Ipv6Routing, [IpProtocol.Icmpv6, 0, 0, 0]);
        Ipv6Packet.TryCreate(shortPacket, out var ip2).Should().BeTrue();
        ip2.TryFindUpperLayer(out _, out _).Should().BeFalse();
    }

    [Fact]
    public void Rejects_WrongVersion_AndTruncation_AndCutsPadding()
    {
        var good = PacketFixtures.Ipv6EchoRequest;
        var v4 = (byte[])good.Clone();
        v4[0] = 0x45;
        Ipv6Packet.TryCreate(v4, out _).Should().BeFalse();

        for (int length = 0; length < good.Length; length++)
        {
            Ipv6Packet.TryCreate(good.AsSpan(0, length), out _).Should().BeFalse("truncated to {0}", length);
        }

        Ipv6Packet.TryCreate([.. good, 0, 0, 0, 0], out var padded).Should().BeTrue();
        padded.Bytes.Length.Should().Be(good.Length);
    }

    private static byte[] Build(byte nextHeader, byte[] payload)
    {
        var packet = new byte[40 + payload.Length];
        new Ipv6Header(Ipv6Header.ToValue(A), Ipv6Header.ToValue(B), nextHeader, 64, payload.Length).Emit(packet);
        payload.CopyTo(packet, 40);
        return packet;
    }
}
