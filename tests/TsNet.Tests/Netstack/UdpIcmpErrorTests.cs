using System.Net;
using TsNet.Netstack;
using TsNet.Packets;
using TsNet.Packets.Buffers;
using TsNet.Tests.Packets;
using static TsNet.Tests.Netstack.UdpTestPackets;

namespace TsNet.Tests.Netstack;

/// <summary>ICMP errors in the core: port unreachable we send, and the errors we act on (path MTU, port unreachable).</summary>
public sealed class UdpIcmpErrorTests
{
    /// <summary>Clock of these tests: timestamps in milliseconds.</summary>
    private const long Frequency = 1000;

    private static readonly IPAddress Us4 = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress Us6 = IPAddress.Parse("fd7a:115c:a1e0::2");
    private static readonly IPAddress Peer4 = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress Peer6 = IPAddress.Parse("fd7a:115c:a1e0::1");

    private readonly PacketBufferPool _pool = new(maxPooled: 64);

    private NetstackCore CreateCore(IPAddress[]? addresses = null, int mtu = 1280, IcmpErrorOptions? icmp = null) =>
        new(new NetstackOptions
        {
            Addresses = addresses ?? [Us4, Us6],
            Pool = _pool,
            Mtu = mtu,
            IcmpErrors = icmp ?? new IcmpErrorOptions(),
            TimestampFrequency = Frequency,
        });

    private PacketBuffer Packet(byte[] bytes)
    {
        var buffer = _pool.Rent(PacketBufferPool.DefaultHeadroom);
        bytes.CopyTo(buffer.Append(bytes.Length));
        return buffer;
    }

    private static byte[] SingleOutbound(NetstackCore core)
    {
        core.TryDequeueOutbound(out var packet).Should().BeTrue();
        core.TryDequeueOutbound(out _).Should().BeFalse();
        packet.Headroom.Should().BeGreaterThanOrEqualTo(PacketBufferPool.DefaultHeadroom);
        packet.Tailroom.Should().BeGreaterThanOrEqualTo(NetstackCore.WireGuardTailroom);
        var bytes = packet.Span.ToArray();
        packet.Return();
        return bytes;
    }

    private static void DrainOutbound(NetstackCore core)
    {
        while (core.TryDequeueOutbound(out var packet))
        {
            packet.Return();
        }
    }

    [Fact]
    public void ClosedPort_Ipv4_PortUnreachable_QuotesTheHeaderAndEightBytes()
    {
        var core = CreateCore();
        var offending = Udp(new IPEndPoint(Peer4, 40000), new IPEndPoint(Us4, 9999), Bytes(100));
        core.ProcessInbound(Packet(offending), now: 0);

        var error = SingleOutbound(core);
        Ipv4Packet.TryCreate(error, out var ip).Should().BeTrue();
        ip.IsChecksumValid().Should().BeTrue();
        ip.GetSourceAddress().Should().Be(Us4);
        ip.GetDestinationAddress().Should().Be(Peer4);
        ip.Protocol.Should().Be(IpProtocol.Icmp);
        ip.TotalLength.Should().Be(20 + 8 + 20 + 8);
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.IsChecksumValid().Should().BeTrue();
        icmp.Type.Should().Be(Icmpv4Type.DestinationUnreachable);
        icmp.Code.Should().Be(Icmpv4Type.PortUnreachableCode);
        icmp.RestOfHeader.ToArray().Should().Equal(0, 0, 0, 0);
        icmp.Payload.ToArray().Should().Equal(offending[..28]);

        core.Counters.Dropped(NetstackDropReason.NoUdpSocket).Should().Be(1);
        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(1);
    }

    [Fact]
    public void ClosedPort_Ipv4WithOptions_QuotesTheOptionsToo()
    {
        var core = CreateCore();
        var udp = Udp(new IPEndPoint(Peer4, 40000), new IPEndPoint(Us4, 9999), Bytes(20));

        // Insert a 4-byte Router Alert option: IHL 6.
        var withOptions = new byte[udp.Length + 4];
        udp.AsSpan(0, 20).CopyTo(withOptions);
        withOptions[0] = 0x46;
        withOptions[3] = (byte)withOptions.Length;
        new byte[] { 0x94, 0x04, 0, 0 }.CopyTo(withOptions, 20);
        udp.AsSpan(20).CopyTo(withOptions.AsSpan(24));
        Ipv4Packet.FillChecksum(withOptions);

        core.ProcessInbound(Packet(withOptions), now: 0);
        Ipv4Packet.TryCreate(SingleOutbound(core), out var ip).Should().BeTrue();
        ip.Payload[8..].ToArray().Should().Equal(withOptions[..32]);
    }

    [Fact]
    public void ClosedPort_Ipv6_QuotesTheWholeSmallPacket()
    {
        var core = CreateCore([Us6]);
        core.ProcessInbound(Packet(PacketFixtures.Ipv6Udp), now: 0);

        var error = SingleOutbound(core);
        Ipv6Packet.TryCreate(error, out var ip).Should().BeTrue();
        ip.GetSourceAddress().Should().Be(Us6);
        ip.GetDestinationAddress().Should().Be(Peer6);
        ip.NextHeader.Should().Be(IpProtocol.Icmpv6);
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.IsChecksumValid(ip.Source, ip.Destination).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv6Type.DestinationUnreachable);
        icmp.Code.Should().Be(4);
        icmp.Payload.ToArray().Should().Equal(PacketFixtures.Ipv6Udp);
    }

    [Fact]
    public void ClosedPort_Ipv6_QuoteIsCutSoTheErrorFits1280Bytes()
    {
        var core = CreateCore([Us6], mtu: 1500);
        var big = Udp(new IPEndPoint(Peer6, 40000), new IPEndPoint(Us6, 9999), Bytes(1400));
        core.ProcessInbound(Packet(big), now: 0);

        var error = SingleOutbound(core);
        error.Length.Should().Be(1280);
        Ipv6Packet.TryCreate(error, out var ip).Should().BeTrue();
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.IsChecksumValid(ip.Source, ip.Destination).Should().BeTrue();
        icmp.Payload.ToArray().Should().Equal(big[..(1280 - 48)]);
    }

    [Fact]
    public void PortUnreachable_IsRateLimited_ByATokenBucket()
    {
        var core = CreateCore();
        var offending = Udp(new IPEndPoint(Peer4, 40000), new IPEndPoint(Us4, 9999), [1]);
        for (int i = 0; i < 60; i++)
        {
            core.ProcessInbound(Packet(offending), now: 1000);
        }

        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(50, "the burst is 50");
        core.IcmpErrorCounters.RateLimited.Should().Be(10);
        core.OutboundCount.Should().Be(50);
        core.Counters.Dropped(NetstackDropReason.NoUdpSocket).Should().Be(60, "every datagram is dropped either way");
        DrainOutbound(core);

        // 100 per second: one token per 10 ms.
        core.ProcessInbound(Packet(offending), now: 1009);
        core.OutboundCount.Should().Be(0);
        core.ProcessInbound(Packet(offending), now: 1010);
        core.OutboundCount.Should().Be(1);
        core.ProcessInbound(Packet(offending), now: 1015);
        core.OutboundCount.Should().Be(1);

        // A long pause refills to the burst, not beyond.
        core.ProcessInbound(Packet(offending), now: 100_000);
        core.IcmpErrorTokens.Should().Be(49);
    }

    [Fact]
    public void RateLimit_IsConfigurable()
    {
        var core = CreateCore(icmp: new IcmpErrorOptions { ErrorsPerSecond = 1, Burst = 2 });
        var offending = Udp(new IPEndPoint(Peer4, 40000), new IPEndPoint(Us4, 9999), [1]);
        for (int i = 0; i < 5; i++)
        {
            core.ProcessInbound(Packet(offending), now: 0);
        }

        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(2);
        core.ProcessInbound(Packet(offending), now: 999);
        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(2);
        core.ProcessInbound(Packet(offending), now: 1000);
        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(3);
    }

    [Fact]
    public void NoError_InResponseToIcmpErrors()
    {
        var core = CreateCore();

        // An ICMPv4 port unreachable and an ICMPv6 destination unreachable as the "offending" packet.
        var quoted4 = Udp(new IPEndPoint(Us4, 1), new IPEndPoint(Peer4, 2), [1]);
        var error4 = IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.PortUnreachableCode, 0, quoted4);
        core.TrySendPortUnreachable(error4, now: 0).Should().BeFalse();
        var quoted6 = Udp(new IPEndPoint(Us6, 1), new IPEndPoint(Peer6, 2), [1]);
        var error6 = IcmpError(Peer6, Us6, Icmpv6Type.PacketTooBig, 0, 1280, quoted6);
        core.TrySendPortUnreachable(error6, now: 0).Should().BeFalse();
        core.IcmpErrorCounters.Suppressed.Should().Be(2);
        core.OutboundCount.Should().Be(0);
    }

    [Fact]
    public void EchoRequest_AsOffendingPacket_IsAnswered()
    {
        var core = CreateCore();
        core.TrySendPortUnreachable(PacketFixtures.Ipv4EchoRequest, now: 0).Should().BeTrue();
        core.TrySendPortUnreachable(PacketFixtures.Ipv6EchoRequest, now: 0).Should().BeTrue();
        core.OutboundCount.Should().Be(2);
    }

    [Theory]
    [InlineData("100.64.0.1", "255.255.255.255")] // limited broadcast
    [InlineData("100.64.0.1", "224.0.0.251")]     // multicast (mDNS)
    [InlineData("0.0.0.0", "100.64.0.2")]         // unspecified source
    [InlineData("224.0.0.1", "100.64.0.2")]       // multicast source
    [InlineData("255.255.255.255", "100.64.0.2")] // broadcast source
    [InlineData("127.0.0.1", "100.64.0.2")]       // loopback source
    [InlineData("240.0.0.1", "100.64.0.2")]       // class E source
    [InlineData("fd7a:115c:a1e0::1", "ff02::fb")] // IPv6 multicast
    [InlineData("::", "fd7a:115c:a1e0::2")]
    [InlineData("ff02::1", "fd7a:115c:a1e0::2")]
    [InlineData("::1", "fd7a:115c:a1e0::2")]
    public void NoError_ForBroadcastMulticastOrNonHostAddresses(string source, string destination)
    {
        var core = CreateCore();
        var offending = Udp(new IPEndPoint(IPAddress.Parse(source), 5353), new IPEndPoint(IPAddress.Parse(destination), 5353), [1]);
        core.TrySendPortUnreachable(offending, now: 0).Should().BeFalse();
        core.IcmpErrorCounters.Suppressed.Should().Be(1);

        // Through the whole inbound path nothing goes out either (not ours, or suppressed).
        core.ProcessInbound(Packet(offending), now: 0);
        core.OutboundCount.Should().Be(0);
        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(0);
    }

    [Fact]
    public void NoError_ForNonFirstFragments()
    {
        var core = CreateCore();
        core.TrySendPortUnreachable(PacketFixtures.Ipv4FragmentLast, now: 0).Should().BeFalse();

        // IPv6: a UDP fragment with a non-zero offset.
        var v6 = Udp(new IPEndPoint(Peer6, 1), new IPEndPoint(Us6, 2), Bytes(16));
        var fragment = new byte[v6.Length + 8];
        v6.AsSpan(0, 40).CopyTo(fragment);
        fragment[6] = IpProtocol.Ipv6Fragment;
        fragment[5] = (byte)(fragment.Length - 40);
        fragment[40] = IpProtocol.Udp;
        fragment[42] = 0x00;
        fragment[43] = 0x08; // offset 1 (× 8 bytes), M clear
        v6.AsSpan(40).CopyTo(fragment.AsSpan(48));
        core.TrySendPortUnreachable(fragment, now: 0).Should().BeFalse();
        core.IcmpErrorCounters.Suppressed.Should().Be(2);

        // The same with offset 0 (a first fragment) would be answered.
        fragment[43] = 0x01; // M set, offset 0
        core.TrySendPortUnreachable(fragment, now: 0).Should().BeTrue();
    }

    [Fact]
    public void PacketTooBig_Ipv6_RecordsThePathMtu_FromTheFixture()
    {
        // The fixture: ::2 tells ::1 that its datagram to ::2 met an MTU of 1280.
        var core = CreateCore([Peer6], mtu: 1400);
        core.PathMtu(Us6).Should().Be(1400);
        core.ProcessInbound(Packet(PacketFixtures.Ipv6PacketTooBig), now: 5);
        core.PathMtu(Us6).Should().Be(1280);
        core.PathMtu(Us6, now: 5).Should().Be(1280);
        core.IcmpErrorCounters.PacketTooBigReceived.Should().Be(1);
        core.Counters.TotalDropped.Should().Be(0);
        core.OutboundCount.Should().Be(0, "never an error about an error");
    }

    [Fact]
    public void FragmentationNeeded_Ipv4_RecordsThePathMtu_FromTheFixture()
    {
        // 100.64.0.2 tells 100.64.0.1 that the DNS query to 100.100.100.100 met a next-hop MTU of 1280.
        var core = CreateCore([Peer4], mtu: 1420);
        var dns = IPAddress.Parse("100.100.100.100");
        core.ProcessInbound(Packet(PacketFixtures.Ipv4FragmentationNeeded), now: 0);
        core.PathMtu(dns).Should().Be(1280);
        core.PathMtu(IPAddress.Parse("::ffff:100.100.100.100")).Should().Be(1280);
        core.PathMtu(Us4).Should().Be(1420, "other destinations keep the link MTU");
        core.PathMtuEntryCount.Should().Be(1);
    }

    [Theory]
    [InlineData(0, 576)]    // a pre-RFC 1191 router: assume the minimum
    [InlineData(300, 576)]  // below the minimum: raised
    [InlineData(1000, 1000)]
    [InlineData(1280, 1280)]
    [InlineData(9000, 1280)] // above the link MTU: nothing learned
    public void FragmentationNeeded_Ipv4_ClampsTheValue(int reported, int expected)
    {
        var core = CreateCore();
        var quoted = Udp(new IPEndPoint(Us4, 7000), new IPEndPoint(Peer4, 9000), Bytes(8));
        core.ProcessInbound(Packet(IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.FragmentationNeededCode, (uint)reported, quoted)), now: 0);
        core.PathMtu(Peer4).Should().Be(expected);
    }

    [Fact]
    public void PacketTooBig_Ipv6_BelowTheMinimum_IsRaisedTo1280()
    {
        var core = CreateCore(mtu: 1400);
        var quoted = Udp(new IPEndPoint(Us6, 7000), new IPEndPoint(Peer6, 9000), Bytes(8));
        core.ProcessInbound(Packet(IcmpError(Peer6, Us6, Icmpv6Type.PacketTooBig, 0, 600, quoted)), now: 0);
        core.PathMtu(Peer6).Should().Be(1280);
    }

    [Fact]
    public void PathMtu_OnlyGoesDown_AndExpiresAfterTenMinutes()
    {
        var core = CreateCore(mtu: 1400);
        var quoted = Udp(new IPEndPoint(Us4, 7000), new IPEndPoint(Peer4, 9000), Bytes(8));
        byte[] Error(int mtu) => IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.FragmentationNeededCode, (uint)mtu, quoted);

        core.ProcessInbound(Packet(Error(1200)), now: 0);
        core.ProcessInbound(Packet(Error(1300)), now: 1000);
        core.PathMtu(Peer4, now: 1000).Should().Be(1200, "a larger value while the entry lives is ignored");

        long tenMinutes = 10 * 60 * Frequency;
        core.PathMtu(Peer4, now: tenMinutes - 1).Should().Be(1200);
        core.PathMtu(Peer4, now: tenMinutes).Should().Be(1400, "after 10 minutes the link MTU is tried again");
        core.PathMtuEntryCount.Should().Be(0);

        // A lower value refreshes the lifetime.
        core.ProcessInbound(Packet(Error(1100)), now: tenMinutes);
        core.ProcessInbound(Packet(Error(1000)), now: 2 * tenMinutes - 1);
        core.PathMtu(Peer4, now: 2 * tenMinutes).Should().Be(1000);
    }

    [Fact]
    public void PathMtuTable_IsBounded_EvictingTheSoonestToExpire()
    {
        var core = CreateCore(mtu: 1400, icmp: new IcmpErrorOptions { PathMtuCapacity = 3 });
        for (int i = 1; i <= 4; i++)
        {
            var destination = IPAddress.Parse("100.64.1." + i);
            var quoted = Udp(new IPEndPoint(Us4, 7000), new IPEndPoint(destination, 9000), Bytes(8));
            var error = IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.FragmentationNeededCode, 1000, quoted);
            core.ProcessInbound(Packet(error), now: i);
        }

        core.PathMtuEntryCount.Should().Be(3);
        core.PathMtu(IPAddress.Parse("100.64.1.1"), now: 10).Should().Be(1400, "the oldest entry was evicted");
        core.PathMtu(IPAddress.Parse("100.64.1.4"), now: 10).Should().Be(1000);
    }

    [Fact]
    public void IcmpError_QuotingAPacketWeDidNotSend_IsDropped()
    {
        var core = CreateCore(mtu: 1400);

        // The quoted packet's source is not one of our addresses.
        var quoted = Udp(new IPEndPoint(IPAddress.Parse("100.64.9.9"), 7000), new IPEndPoint(Peer4, 9000), Bytes(8));
        core.ProcessInbound(Packet(IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.FragmentationNeededCode, 600, quoted)), now: 0);

        // A quote too short for an IPv4 header.
        core.ProcessInbound(Packet(IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.FragmentationNeededCode, 600, quoted.AsSpan(0, 12))), now: 0);

        // IPv6 with a quote that is not IPv6.
        core.ProcessInbound(Packet(IcmpError(Peer6, Us6, Icmpv6Type.PacketTooBig, 0, 1280, quoted)), now: 0);

        core.Counters.Dropped(NetstackDropReason.InvalidIcmpError).Should().Be(3);
        core.PathMtuEntryCount.Should().Be(0);
        core.OutboundCount.Should().Be(0);
    }

    [Fact]
    public void PortUnreachable_AboutOurDatagram_IsCounted_AndTheSocketKeepsWorking()
    {
        var core = CreateCore();
        core.TryBindUdp(null, 7000, out var socket).Should().Be(UdpBindResult.Bound);

        var quoted4 = Udp(new IPEndPoint(Us4, 7000), new IPEndPoint(Peer4, 9000), Bytes(20));
        core.ProcessInbound(Packet(IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.PortUnreachableCode, 0, quoted4[..28])), now: 0);
        var quoted6 = Udp(new IPEndPoint(Us6, 7000), new IPEndPoint(Peer6, 9000), Bytes(20));
        core.ProcessInbound(Packet(IcmpError(Peer6, Us6, Icmpv6Type.DestinationUnreachable, 4, 0, quoted6)), now: 0);

        // About a port we have no socket on: counted globally only.
        var other = Udp(new IPEndPoint(Us4, 7001), new IPEndPoint(Peer4, 9000), Bytes(20));
        core.ProcessInbound(Packet(IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.PortUnreachableCode, 0, other[..28])), now: 0);

        core.IcmpErrorCounters.PortUnreachableReceived.Should().Be(3);
        socket!.PortUnreachableReceived.Should().Be(2);
        socket.IsClosed.Should().BeFalse();
        core.Counters.TotalDropped.Should().Be(0);

        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 9000), new IPEndPoint(Us4, 7000), [5])), now: 0);
        socket.Receive.TryRead(out var datagram).Should().BeTrue();
        datagram.Payload.Span[0].Should().Be(5);
    }

    [Fact]
    public void OtherUnreachableCodes_AreNotActedOn()
    {
        var core = CreateCore();
        var quoted = Udp(new IPEndPoint(Us4, 7000), new IPEndPoint(Peer4, 9000), Bytes(8));
        core.ProcessInbound(Packet(IcmpError(Peer4, Us4, Icmpv4Type.DestinationUnreachable, 1, 0, quoted)), now: 0); // host unreachable
        var quoted6 = Udp(new IPEndPoint(Us6, 7000), new IPEndPoint(Peer6, 9000), Bytes(8));
        core.ProcessInbound(Packet(IcmpError(Peer6, Us6, Icmpv6Type.DestinationUnreachable, 1, 0, quoted6)), now: 0); // administratively prohibited
        core.Counters.Dropped(NetstackDropReason.UnhandledIcmp).Should().Be(2);
        core.IcmpErrorCounters.PortUnreachableReceived.Should().Be(0);
    }

    [Fact]
    public void CoreToCore_ClosedPort_TheSenderCountsThePortUnreachable()
    {
        var a = CreateCore([Peer4, Peer6]);
        var b = CreateCore([Us4, Us6]);
        a.TryBindUdp(null, 7000, out var socket).Should().Be(UdpBindResult.Bound);
        foreach (var destination in new[] { Us4, Us6 })
        {
            EndpointValue.TryFrom(new IPEndPoint(destination, 9999), out var remote).Should().BeTrue();
            a.SendUdp(socket!, remote, "anyone?"u8, now: 0).Should().Be(UdpSendResult.Sent);
            a.TryDequeueOutbound(out var datagram).Should().BeTrue();
            b.ProcessInbound(datagram, now: 0);
            b.TryDequeueOutbound(out var error).Should().BeTrue();
            a.ProcessInbound(error, now: 0);
        }

        a.IcmpErrorCounters.PortUnreachableReceived.Should().Be(2);
        socket!.PortUnreachableReceived.Should().Be(2);
        b.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(2);
    }

    [Fact]
    public void MutatedUdpAndIcmpErrorPackets_NeverThrow()
    {
        var dns = IPAddress.Parse("100.100.100.100");
        var core = CreateCore([Peer4, Peer6, Us6, dns], mtu: 1400);
        core.TryBindUdp(null, 53, out _).Should().Be(UdpBindResult.Bound);
        core.TryBindUdp(null, 5353, out var mdns).Should().Be(UdpBindResult.Bound);
        var quoted = Udp(new IPEndPoint(Peer4, 53), new IPEndPoint(Us4, 9000), Bytes(8));
        var seeds = new[]
        {
            PacketFixtures.Ipv4UdpDns,
            PacketFixtures.Ipv6Udp,
            PacketFixtures.Ipv4FragmentationNeeded,
            PacketFixtures.Ipv6PacketTooBig,
            IcmpError(Us4, Peer4, Icmpv4Type.DestinationUnreachable, Icmpv4Type.PortUnreachableCode, 0, quoted),
            Udp(new IPEndPoint(Us6, 1), new IPEndPoint(Peer6, 9), Bytes(30)),
        };

        long now = 0;
        foreach (var seed in seeds)
        {
            for (int length = 0; length <= seed.Length; length++)
            {
                core.ProcessInbound(Packet(seed[..length]), now += 10);
            }

            for (int bit = 0; bit < seed.Length * 8; bit++)
            {
                var copy = (byte[])seed.Clone();
                copy[bit / 8] ^= (byte)(1 << (bit % 8));

                // Keep the IPv4 header checksum right so mutations reach the UDP and ICMP layers.
                if (copy[0] >> 4 == 4 && (copy[0] & 0x0F) >= 5 && (copy[0] & 0x0F) * 4 <= copy.Length)
                {
                    Ipv4Packet.FillChecksum(copy);
                    if (copy[9] == IpProtocol.Icmp && copy.Length >= 28 && (copy[0] & 0x0F) == 5)
                    {
                        Icmpv4Packet.FillChecksum(copy.AsSpan(20));
                    }
                }

                core.ProcessInbound(Packet(copy), now += 10);
                DrainOutbound(core);
                while (mdns!.Receive.TryRead(out var datagram))
                {
                    datagram.Payload.Return();
                }
            }
        }

        core.Counters.InboundPackets.Should().BeGreaterThan(1000);
    }
}
