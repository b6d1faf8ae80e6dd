using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Tests.Packets;

public sealed class IcmpEchoBuilderTests
{
    private static readonly byte[] PingData = PacketFixtures.Ipv4EchoRequest.AsSpan(28).ToArray();

    [Fact]
    public void WriteIpv4_ProducesValidEchoRequest()
    {
        var buffer = new byte[100];
        int length = IcmpEchoBuilder.WriteIpv4(buffer, 0x64400001, 0x64400002, Icmpv4Type.EchoRequest, 0x1c46, 1, PingData);
        length.Should().Be(76);

        // Same as the captured request except for IP ID 0 (TsNet sends atomic datagrams), hence the IP checksum.
        var expected = (byte[])PacketFixtures.Ipv4EchoRequest.Clone();
        expected[4] = 0;
        expected[5] = 0;
        Ipv4Packet.FillChecksum(expected);
        buffer.AsSpan(0, length).ToArray().Should().Equal(expected);
    }

    [Fact]
    public void WriteIpv6_ReproducesCapturedReply()
    {
        Ipv6Packet.TryCreate(PacketFixtures.Ipv6EchoReply, out var reply).Should().BeTrue();
        var buffer = new byte[200];
        int length = IcmpEchoBuilder.WriteIpv6(buffer, reply.SourceValue, reply.DestinationValue, Icmpv6Type.EchoReply, 0x2b07, 3, PingData);
        buffer.AsSpan(0, length).ToArray().Should().Equal(PacketFixtures.Ipv6EchoReply);
    }

    [Fact]
    public void TryAppend_UsesBufferTailroom_KeepsHeadroom()
    {
        var pool = new PacketBufferPool(bufferSize: 128, maxPooled: 4);
        var buffer = pool.Rent();
        IcmpEchoBuilder.TryAppendIpv4(buffer, 1, 2, Icmpv4Type.EchoRequest, 5, 6, new byte[60]).Should().BeTrue();
        buffer.Headroom.Should().Be(PacketBufferPool.DefaultHeadroom);
        buffer.Length.Should().Be(88);
        Ipv4Packet.TryCreate(buffer.Span, out var ip).Should().BeTrue();
        ip.IsChecksumValid().Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.IsChecksumValid().Should().BeTrue();
        icmp.Identifier.Should().Be(5);
        icmp.SequenceNumber.Should().Be(6);

        var small = pool.Rent();
        IcmpEchoBuilder.TryAppendIpv6(small, 1, 2, Icmpv6Type.EchoRequest, 5, 6, new byte[60]).Should().BeFalse();
        small.Length.Should().Be(0);
    }

    [Fact]
    public void Write_TooSmallDestination_Throws()
    {
        FluentActions.Invoking(() => IcmpEchoBuilder.WriteIpv4(new byte[27], 1, 2, Icmpv4Type.EchoRequest, 0, 0, default))
            .Should().Throw<ArgumentException>();
    }
}
