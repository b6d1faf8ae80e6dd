using System.Net;
using TsNet.Netstack;
using TsNet.Packets;
using TsNet.Packets.Buffers;
using TsNet.Tests.Packets;

namespace TsNet.Tests.Netstack;

public sealed class NetstackCoreTests
{
    private static readonly IPAddress Us4 = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress Us6 = IPAddress.Parse("fd7a:115c:a1e0::2");
    private static readonly IPAddress Peer4 = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress Peer6 = IPAddress.Parse("fd7a:115c:a1e0::1");

    private readonly PacketBufferPool _pool = new(maxPooled: 64);

    private NetstackCore CreateCore(int outboundCapacity = 1024, int echoReplyCapacity = 256, int maxPending = 1024, params IPAddress[] addresses) =>
        new(new NetstackOptions
        {
            Addresses = addresses.Length == 0 ? [Us4, Us6] : addresses,
            Pool = _pool,
            OutboundQueueCapacity = outboundCapacity,
            EchoReplyQueueCapacity = echoReplyCapacity,
            MaxPendingEchoRequests = maxPending,
        });

    private PacketBuffer Packet(byte[] bytes, int headroom = PacketBufferPool.DefaultHeadroom)
    {
        var buffer = _pool.Rent(headroom);
        bytes.CopyTo(buffer.Append(bytes.Length));
        return buffer;
    }

    private static PacketBuffer SingleOutbound(NetstackCore core)
    {
        core.TryDequeueOutbound(out var packet).Should().BeTrue();
        core.TryDequeueOutbound(out _).Should().BeFalse();
        packet.Headroom.Should().BeGreaterThanOrEqualTo(PacketBufferPool.DefaultHeadroom);
        packet.Tailroom.Should().BeGreaterThanOrEqualTo(NetstackCore.WireGuardTailroom);
        return packet;
    }

    private static byte[] ExpectedIpv4Reply(byte[] capturedReply)
    {
        // TsNet answers with an atomic datagram (ID 0, DF) and TTL 64; the ICMP message is the captured one.
        var expected = (byte[])capturedReply.Clone();
        expected[4] = 0;
        expected[5] = 0;
        expected[6] = 0x40;
        expected[7] = 0;
        expected[8] = 64;
        Ipv4Packet.FillChecksum(expected);
        return expected;
    }

    [Fact]
    public void Ipv4EchoRequest_IsAnsweredInPlace()
    {
        var core = CreateCore();
        var request = Packet(PacketFixtures.Ipv4EchoRequest);
        core.ProcessInbound(request, now: 100);

        var reply = SingleOutbound(core);
        reply.Should().BeSameAs(request, "the reply reuses the request's buffer");
        reply.Span.ToArray().Should().Equal(ExpectedIpv4Reply(PacketFixtures.Ipv4EchoReply));
        Ipv4Packet.TryCreate(reply.Span, out var ip).Should().BeTrue();
        ip.IsChecksumValid().Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.IsChecksumValid().Should().BeTrue();
        core.Counters.EchoRequestsAnswered.Should().Be(1);
        core.Counters.OutboundPackets.Should().Be(1);
        core.Counters.TotalDropped.Should().Be(0);
    }

    [Fact]
    public void Ipv6EchoRequest_IsAnsweredWithCapturedReplyBytes()
    {
        var core = CreateCore();
        core.ProcessInbound(Packet(PacketFixtures.Ipv6EchoRequest), now: 100);
        var reply = SingleOutbound(core);
        reply.Span.ToArray().Should().Equal(PacketFixtures.Ipv6EchoReply);
    }

    [Fact]
    public void Ipv4EchoRequestWithOptions_ReplyHasNoOptions()
    {
        var core = CreateCore(addresses: [Us4, IPAddress.Parse("100.64.0.2")]);
        core.ProcessInbound(Packet(PacketFixtures.Ipv4OptionsEcho), now: 0);
        var reply = SingleOutbound(core);
        Ipv4Packet.TryCreate(reply.Span, out var ip).Should().BeTrue();
        ip.HeaderLength.Should().Be(20);
        ip.TotalLength.Should().Be(32);
        ip.IsChecksumValid().Should().BeTrue();
        ip.GetSourceAddress().Should().Be(Us4);
        ip.GetDestinationAddress().Should().Be(Peer4);
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv4Type.EchoReply);
        icmp.Identifier.Should().Be(7);
        icmp.SequenceNumber.Should().Be(9);
        icmp.IsChecksumValid().Should().BeTrue();
        System.Text.Encoding.ASCII.GetString(icmp.Payload).Should().Be("opts");
    }

    [Fact]
    public void Ipv6EchoRequestBehindExtensionHeaders_ReplyHasNone()
    {
        var core = CreateCore();
        core.ProcessInbound(Packet(PacketFixtures.Ipv6ExtensionEcho), now: 0);
        var reply = SingleOutbound(core);
        Ipv6Packet.TryCreate(reply.Span, out var ip).Should().BeTrue();
        ip.NextHeader.Should().Be(IpProtocol.Icmpv6);
        ip.HopLimit.Should().Be(64);
        ip.GetSourceAddress().Should().Be(Us6);
        ip.GetDestinationAddress().Should().Be(Peer6);
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv6Type.EchoReply);
        icmp.SequenceNumber.Should().Be(4);
        icmp.IsChecksumValid(ip.Source, ip.Destination).Should().BeTrue();
        System.Text.Encoding.ASCII.GetString(icmp.Payload).Should().Be("ext");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void RequestWithoutHeadroom_IsMovedSoTheReplyHasIt(int headroom)
    {
        var core = CreateCore();
        core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoRequest, headroom), now: 0);
        SingleOutbound(core).Span.ToArray().Should().Equal(ExpectedIpv4Reply(PacketFixtures.Ipv4EchoReply));

        core.ProcessInbound(Packet(PacketFixtures.Ipv6EchoRequest, headroom), now: 0);
        SingleOutbound(core).Span.ToArray().Should().Equal(PacketFixtures.Ipv6EchoReply);
    }

    [Fact]
    public void RequestWithoutTailroom_IsCopiedToAFreshBuffer()
    {
        var core = CreateCore();
        var small = new PacketBufferPool(bufferSize: 120, maxPooled: 1).Rent(headroom: 0);
        PacketFixtures.Ipv6EchoRequest.CopyTo(small.Append(PacketFixtures.Ipv6EchoRequest.Length));
        core.ProcessInbound(small, now: 0);
        var reply = SingleOutbound(core);
        reply.Should().NotBeSameAs(small);
        reply.Span.ToArray().Should().Equal(PacketFixtures.Ipv6EchoReply);
    }

    [Fact]
    public void WireGuardPaddingBehindThePacket_IsIgnored()
    {
        var core = CreateCore();
        core.ProcessInbound(Packet([.. PacketFixtures.Ipv4EchoRequest, 0, 0, 0, 0]), now: 0);
        SingleOutbound(core).Span.ToArray().Should().Equal(ExpectedIpv4Reply(PacketFixtures.Ipv4EchoReply));
    }

    public static TheoryData<string, byte[], string> Drops()
    {
        var badIpChecksum = (byte[])PacketFixtures.Ipv4EchoRequest.Clone();
        badIpChecksum[8] = 63;
        var badIcmpChecksum = (byte[])PacketFixtures.Ipv4EchoRequest.Clone();
        badIcmpChecksum[^1] ^= 1;
        var badIcmpv6Checksum = (byte[])PacketFixtures.Ipv6EchoRequest.Clone();
        badIcmpv6Checksum[^1] ^= 1;
        var notOurs4 = PacketFixtures.Ipv4UdpDns; // to 100.100.100.100
        var notOurs6 = (byte[])PacketFixtures.Ipv6EchoRequest.Clone();
        notOurs6[39] = 9;
        var badIhl = (byte[])PacketFixtures.Ipv4EchoRequest.Clone();
        badIhl[0] = 0x44;
        var multicastSource = (byte[])PacketFixtures.Ipv4EchoRequest.Clone();
        multicastSource[12] = 224;
        Ipv4Packet.FillChecksum(multicastSource);
        var udpToUs = (byte[])PacketFixtures.Ipv4UdpDns.Clone();
        udpToUs[16] = 100;
        udpToUs[17] = 64;
        udpToUs[18] = 0;
        udpToUs[19] = 2;
        Ipv4Packet.FillChecksum(udpToUs);
        var truncatedIcmp = new byte[24];
        new Ipv4Header(Ipv4Header.ToValue(Peer4), Ipv4Header.ToValue(Us4), IpProtocol.Icmp, 64, 4).Emit(truncatedIcmp);

        return new TheoryData<string, byte[], string>
        {
            { "empty", [], nameof(NetstackDropReason.Truncated) },
            { "short v4", PacketFixtures.Ipv4EchoRequest[..19], nameof(NetstackDropReason.Truncated) },
            { "cut v4", PacketFixtures.Ipv4EchoRequest[..50], nameof(NetstackDropReason.Truncated) },
            { "cut v6", PacketFixtures.Ipv6EchoRequest[..70], nameof(NetstackDropReason.Truncated) },
            { "version 5", [0x50, .. new byte[40]], nameof(NetstackDropReason.Malformed) },
            { "ihl 4", badIhl, nameof(NetstackDropReason.Malformed) },
            { "bad ip checksum", badIpChecksum, nameof(NetstackDropReason.BadChecksum) },
            { "bad icmp checksum", badIcmpChecksum, nameof(NetstackDropReason.BadChecksum) },
            { "bad icmpv6 checksum", badIcmpv6Checksum, nameof(NetstackDropReason.BadChecksum) },
            { "v4 first fragment", PacketFixtures.Ipv4FragmentFirst, nameof(NetstackDropReason.Fragment) },
            { "v4 last fragment", PacketFixtures.Ipv4FragmentLast, nameof(NetstackDropReason.Fragment) },
            { "v6 fragment", PacketFixtures.Ipv6Fragment, nameof(NetstackDropReason.Fragment) },
            { "v4 not ours", notOurs4, nameof(NetstackDropReason.NotOurAddress) },
            { "v6 not ours", notOurs6, nameof(NetstackDropReason.NotOurAddress) },
            { "udp checksum for another destination", udpToUs, nameof(NetstackDropReason.BadChecksum) },
            { "multicast source", multicastSource, nameof(NetstackDropReason.InvalidSource) },
            { "short icmp", truncatedIcmp, nameof(NetstackDropReason.Malformed) },
            { "packet too big", PacketFixtures.Ipv6PacketTooBig, nameof(NetstackDropReason.NotOurAddress) },
            { "unsolicited echo reply", PacketFixtures.Ipv6EchoReply, nameof(NetstackDropReason.NotOurAddress) },
        };
    }

    [Fact]
    public void TcpToClosedPort_IsAnsweredWithRst()
    {
        var core = new NetstackCore(new NetstackOptions { Addresses = [Us4, Us6], Pool = _pool });
        var buffer = _pool.Rent();
        PacketFixtures.Ipv6TcpData.CopyTo(buffer.Append(PacketFixtures.Ipv6TcpData.Length));

        core.ProcessInbound(buffer, now: 0);

        core.Counters.Dropped(NetstackDropReason.NoTcpListener).Should().Be(1);
        core.Counters.TcpResetsSent.Should().Be(1);
        core.TryDequeueOutbound(out var reset).Should().BeTrue();
        Ipv6Packet.TryCreate(reset.Span, out var ip).Should().BeTrue();
        ip.TryFindUpperLayer(out var protocol, out var offset).Should().BeTrue();
        protocol.Should().Be(IpProtocol.Tcp);
        TcpSegment.TryCreate(reset.Span[offset..], out var tcp).Should().BeTrue();
        (tcp.Flags & TcpFlags.Rst).Should().Be(TcpFlags.Rst);
        reset.Return();
    }

    [Theory]
    [MemberData(nameof(Drops))]
    public void BadOrUnwantedPackets_AreDroppedAndCounted(string name, byte[] bytes, string reasonName)
    {
        var reason = Enum.Parse<NetstackDropReason>(reasonName);
        var pool = new PacketBufferPool(maxPooled: 4);
        var core = new NetstackCore(new NetstackOptions { Addresses = [Us4, Us6], Pool = _pool });
        var buffer = pool.Rent();
        bytes.CopyTo(buffer.Append(bytes.Length));

        core.ProcessInbound(buffer, now: 0);

        core.TryDequeueOutbound(out _).Should().BeFalse(name);
        core.Counters.Dropped(reason).Should().Be(1, name);
        core.Counters.TotalDropped.Should().Be(1, name);
        core.Counters.InboundPackets.Should().Be(1);
        pool.Rent().Should().BeSameAs(buffer, "the dropped buffer went back to its pool");
    }

    [Fact]
    public void IcmpErrorsToUs_AreActedOn_NotDropped()
    {
        // More in UdpIcmpErrorTests.
        var core = CreateCore(addresses: [Peer4, Peer6]);
        core.ProcessInbound(Packet(PacketFixtures.Ipv6PacketTooBig), now: 0);
        core.ProcessInbound(Packet(PacketFixtures.Ipv4FragmentationNeeded), now: 0);
        core.IcmpErrorCounters.PacketTooBigReceived.Should().Be(2);
        core.Counters.TotalDropped.Should().Be(0);
    }

    [Fact]
    public void EchoReply_ThatMatchesNothing_IsCounted()
    {
        var core = CreateCore(addresses: [Peer4, Peer6]);
        core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoReply), now: 0);
        core.ProcessInbound(Packet(PacketFixtures.Ipv6EchoReply), now: 0);
        core.Counters.Dropped(NetstackDropReason.UnmatchedEchoReply).Should().Be(2);
        core.TryDequeueEchoReply(out _).Should().BeFalse();
    }

    [Fact]
    public void TrySendEchoRequest_Ipv4_BuildsRequest_AndMatchesReply()
    {
        // We are 100.64.0.1 pinging 100.64.0.2 with the identifier and sequence of the captured exchange.
        var core = CreateCore(addresses: [Peer4]);
        core.TrySendEchoRequest(Us4, 0x1c46, 1, 48, now: 1000).Should().BeTrue();
        core.PendingEchoCount.Should().Be(1);
        var request = SingleOutbound(core);
        request.Headroom.Should().Be(PacketBufferPool.DefaultHeadroom);
        Ipv4Packet.TryCreate(request.Span, out var ip).Should().BeTrue();
        ip.IsChecksumValid().Should().BeTrue();
        ip.GetSourceAddress().Should().Be(Peer4);
        ip.GetDestinationAddress().Should().Be(Us4);
        ip.TimeToLive.Should().Be(64);
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv4Type.EchoRequest);
        icmp.Identifier.Should().Be(0x1c46);
        icmp.SequenceNumber.Should().Be(1);
        icmp.Payload.Length.Should().Be(48);
        icmp.IsChecksumValid().Should().BeTrue();
        request.Return();

        core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoReply), now: 1500);
        core.TryDequeueEchoReply(out var reply).Should().BeTrue();
        reply.Should().Be(new EchoReply(Us4, 0x1c46, 1, 1500));
        core.PendingEchoCount.Should().Be(0);
        core.Counters.EchoRepliesReceived.Should().Be(1);

        // A duplicate reply no longer matches.
        core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoReply), now: 1600);
        core.TryDequeueEchoReply(out _).Should().BeFalse();
        core.Counters.Dropped(NetstackDropReason.UnmatchedEchoReply).Should().Be(1);
    }

    [Fact]
    public void TrySendEchoRequest_Ipv6_BuildsRequest_AndMatchesReply()
    {
        var core = CreateCore(addresses: [Peer6]);
        core.TrySendEchoRequest(Us6, 0x2b07, 3, 48, now: 10).Should().BeTrue();
        var request = SingleOutbound(core);
        Ipv6Packet.TryCreate(request.Span, out var ip).Should().BeTrue();
        ip.GetSourceAddress().Should().Be(Peer6);
        ip.GetDestinationAddress().Should().Be(Us6);
        ip.NextHeader.Should().Be(IpProtocol.Icmpv6);
        Icmpv6Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        icmp.Type.Should().Be(Icmpv6Type.EchoRequest);
        icmp.IsChecksumValid(ip.Source, ip.Destination).Should().BeTrue();

        core.ProcessInbound(Packet(PacketFixtures.Ipv6EchoReply), now: 20);
        core.TryDequeueEchoReply(out var reply).Should().BeTrue();
        reply.Should().Be(new EchoReply(Us6, 0x2b07, 3, 20));
    }

    [Fact]
    public void EchoReply_FromAnotherAddress_DoesNotMatch()
    {
        var core = CreateCore(addresses: [Peer4]);
        core.TrySendEchoRequest(IPAddress.Parse("100.64.0.3"), 0x1c46, 1, 48, now: 0).Should().BeTrue();
        core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoReply), now: 1);
        core.TryDequeueEchoReply(out _).Should().BeFalse();
        core.Counters.Dropped(NetstackDropReason.UnmatchedEchoReply).Should().Be(1);
        core.PendingEchoCount.Should().Be(1);
    }

    [Fact]
    public void CancelEchoRequest_MakesTheReplyUnmatched()
    {
        var core = CreateCore(addresses: [Peer4]);
        core.TrySendEchoRequest(Us4, 0x1c46, 1, 48, now: 0).Should().BeTrue();
        core.CancelEchoRequest(Us4, 0x1c46, 1).Should().BeTrue();
        core.CancelEchoRequest(Us4, 0x1c46, 1).Should().BeFalse();
        core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoReply), now: 1);
        core.TryDequeueEchoReply(out _).Should().BeFalse();
    }

    [Fact]
    public void TrySendEchoRequest_Refusals()
    {
        var v4Only = CreateCore(addresses: [Peer4]);
        v4Only.TrySendEchoRequest(Us6, 1, 1, 8, 0).Should().BeFalse("no IPv6 source");
        v4Only.TrySendEchoRequest(Us4, 1, 1, -1, 0).Should().BeFalse();
        v4Only.TrySendEchoRequest(Us4, 1, 1, NetstackOptions.DefaultMtu - 28 + 1, 0).Should().BeFalse("over the MTU");
        v4Only.TrySendEchoRequest(Us4, 1, 1, NetstackOptions.DefaultMtu - 28, 0).Should().BeTrue("exactly the MTU");
        SingleOutbound(v4Only).Length.Should().Be(NetstackOptions.DefaultMtu);
        v4Only.TrySendEchoRequest(IPAddress.Parse("::ffff:100.64.0.2"), 1, 2, 8, 0).Should().BeTrue("IPv4-mapped is IPv4");

        var fewPending = CreateCore(maxPending: 2, addresses: [Peer4]);
        fewPending.TrySendEchoRequest(Us4, 1, 1, 8, 0).Should().BeTrue();
        fewPending.TrySendEchoRequest(Us4, 1, 2, 8, 0).Should().BeTrue();
        fewPending.TrySendEchoRequest(Us4, 1, 3, 8, 0).Should().BeFalse("too many pending");
        fewPending.TrySendEchoRequest(Us4, 1, 2, 8, 0).Should().BeTrue("re-sending a pending one is fine");

        var smallQueue = CreateCore(outboundCapacity: 1, addresses: [Peer4]);
        smallQueue.TrySendEchoRequest(Us4, 1, 1, 8, 0).Should().BeTrue();
        smallQueue.TrySendEchoRequest(Us4, 1, 2, 8, 0).Should().BeFalse("outbound queue full");
        smallQueue.Counters.Dropped(NetstackDropReason.OutboundQueueFull).Should().Be(1);
    }

    [Fact]
    public void OutboundQueue_IsBounded_ExcessRepliesDropped()
    {
        var core = CreateCore(outboundCapacity: 2);
        for (int i = 0; i < 3; i++)
        {
            core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoRequest), now: 0);
        }

        core.OutboundCount.Should().Be(2);
        core.Counters.Dropped(NetstackDropReason.OutboundQueueFull).Should().Be(1);
        core.Counters.EchoRequestsAnswered.Should().Be(3);
    }

    [Fact]
    public void EchoReplyQueue_IsBounded()
    {
        var core = CreateCore(echoReplyCapacity: 1, addresses: [Peer4]);
        core.TrySendEchoRequest(Us4, 0x1c46, 1, 48, 0).Should().BeTrue();
        core.TrySendEchoRequest(Us4, 0x1c46, 2, 48, 0).Should().BeTrue();
        var reply2 = (byte[])PacketFixtures.Ipv4EchoReply.Clone();
        reply2[27] = 2; // sequence 2
        Icmpv4Packet.FillChecksum(reply2.AsSpan(20));
        core.ProcessInbound(Packet(PacketFixtures.Ipv4EchoReply), 1);
        core.ProcessInbound(Packet(reply2), 1);
        core.Counters.Dropped(NetstackDropReason.EchoReplyQueueFull).Should().Be(1);
        core.TryDequeueEchoReply(out var reply).Should().BeTrue();
        reply.Sequence.Should().Be(1);
        core.TryDequeueEchoReply(out _).Should().BeFalse();
    }

    [Fact]
    public void Clear_ReturnsOutboundBuffers()
    {
        var pool = new PacketBufferPool(maxPooled: 8);
        var core = new NetstackCore(new NetstackOptions { Addresses = [Peer4], Pool = pool });
        core.TrySendEchoRequest(Us4, 1, 1, 8, 0).Should().BeTrue();
        core.OutboundCount.Should().Be(1);
        core.Clear();
        core.OutboundCount.Should().Be(0);
        core.PendingEchoCount.Should().Be(0);
    }

    [Fact]
    public void EchoPath_DoesNotAllocate()
    {
        var core = CreateCore();
        var buffer = Packet(PacketFixtures.Ipv4EchoRequest);
        var v6 = Packet(PacketFixtures.Ipv6EchoRequest);

        bool ok = true;

        // No assertions inside: FluentAssertions allocates.
        void Round()
        {
            // Feed each reply back in as a fresh request: same bytes, same buffers.
            PacketFixtures.Ipv4EchoRequest.CopyTo(buffer.Array, buffer.Offset);
            buffer.SetLength(PacketFixtures.Ipv4EchoRequest.Length);
            core.ProcessInbound(buffer, 0);
            ok &= core.TryDequeueOutbound(out buffer!);
            PacketFixtures.Ipv6EchoRequest.CopyTo(v6.Array, v6.Offset);
            v6.SetLength(PacketFixtures.Ipv6EchoRequest.Length);
            core.ProcessInbound(v6, 0);
            ok &= core.TryDequeueOutbound(out v6!);
        }

        // Warm up past tiered compilation, then take the best of three measurements: a real per-packet allocation
        // shows in every one, while the runtime on a loaded machine may add a few bytes to a single one.
        for (int i = 0; i < 200; i++)
        {
            Round();
        }

        long allocated = long.MaxValue;
        int rounds = 200;
        for (int attempt = 0; attempt < 3 && allocated > 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                Round();
            }

            rounds += 1000;
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        ok.Should().BeTrue();
        core.Counters.EchoRequestsAnswered.Should().Be(2 * rounds);
        allocated.Should().Be(0);
    }

    [Fact]
    public void Options_AreValidated()
    {
        FluentActions.Invoking(() => new NetstackCore(new NetstackOptions { Addresses = [Us6], Mtu = 1000 }))
            .Should().Throw<ArgumentOutOfRangeException>("IPv6 needs 1280");
        FluentActions.Invoking(() => new NetstackCore(new NetstackOptions { Addresses = [Us4], Mtu = 1000 }))
            .Should().NotThrow();
        FluentActions.Invoking(() => new NetstackCore(new NetstackOptions { Mtu = 1500, Pool = new PacketBufferPool(bufferSize: 1500) }))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new NetstackCore(new NetstackOptions { OutboundQueueCapacity = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>();
        new NetstackCore(new NetstackOptions()).NextDeadline.Should().Be(long.MaxValue);
    }

    [Fact]
    public void RandomGarbage_NeverThrows_AndEveryBufferIsAccountedFor()
    {
        var core = CreateCore();
        var random = new Random(99);
        for (int i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 120)];
            random.NextBytes(bytes);
            if (bytes.Length > 0)
            {
                bytes[0] = (byte)((i % 2 == 0 ? 0x45 : 0x60) | (bytes[0] & (i % 4 == 0 ? 0 : 0x0F)));
            }

            core.ProcessInbound(Packet(bytes), 0);
            while (core.TryDequeueOutbound(out var packet))
            {
                packet.Return();
            }
        }

        core.Counters.InboundPackets.Should().Be(5000);
        (core.Counters.TotalDropped + core.Counters.EchoRequestsAnswered).Should().Be(5000);
    }
}
