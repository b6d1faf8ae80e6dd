using System.Net;
using System.Threading.Channels;
using TsNet.Netstack;
using TsNet.Packets;
using TsNet.Packets.Buffers;
using TsNet.Tests.Packets;
using static TsNet.Tests.Netstack.UdpTestPackets;

namespace TsNet.Tests.Netstack;

/// <summary>UDP in the sans-IO core: binding, demultiplexing, receive queues, checksums, building datagrams.</summary>
public sealed class UdpCoreTests
{
    private static readonly IPAddress Us4 = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress Us4b = IPAddress.Parse("100.64.0.3");
    private static readonly IPAddress Us6 = IPAddress.Parse("fd7a:115c:a1e0::2");
    private static readonly IPAddress Peer4 = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress Peer6 = IPAddress.Parse("fd7a:115c:a1e0::1");

    private readonly PacketBufferPool _pool = new(maxPooled: 64);

    private NetstackCore CreateCore(IPAddress[]? addresses = null, UdpOptions? udp = null, int outboundCapacity = 1024) =>
        new(new NetstackOptions
        {
            Addresses = addresses ?? [Us4, Us6],
            Pool = _pool,
            OutboundQueueCapacity = outboundCapacity,
            Udp = udp ?? new UdpOptions(),
            TimestampFrequency = 1000,
        });

    private PacketBuffer Packet(byte[] bytes, int headroom = PacketBufferPool.DefaultHeadroom)
    {
        var buffer = _pool.Rent(headroom);
        bytes.CopyTo(buffer.Append(bytes.Length));
        return buffer;
    }

    private static UdpSocketState Bind(NetstackCore core, IPAddress? address, int port)
    {
        core.TryBindUdp(address, port, out var socket).Should().Be(UdpBindResult.Bound);
        return socket!;
    }

    private static UdpReceivedDatagram Single(UdpSocketState socket)
    {
        socket.Receive.TryRead(out var datagram).Should().BeTrue();
        socket.Receive.TryRead(out _).Should().BeFalse();
        return datagram;
    }

    private static PacketBuffer SingleOutbound(NetstackCore core)
    {
        core.TryDequeueOutbound(out var packet).Should().BeTrue();
        core.TryDequeueOutbound(out _).Should().BeFalse();
        packet.Headroom.Should().BeGreaterThanOrEqualTo(PacketBufferPool.DefaultHeadroom);
        packet.Tailroom.Should().BeGreaterThanOrEqualTo(NetstackCore.WireGuardTailroom);
        return packet;
    }

    private static EndpointValue Remote(IPAddress address, int port)
    {
        EndpointValue.TryFrom(new IPEndPoint(address, port), out var value).Should().BeTrue();
        return value;
    }

    [Fact]
    public void AnyAddressSocket_ReceivesOnEveryLocalAddress_WithTheSourceEndpoint_WithoutCopying()
    {
        var core = CreateCore();
        var socket = Bind(core, null, 7000);

        var inbound4 = Packet(Udp(new IPEndPoint(Peer4, 40000), new IPEndPoint(Us4, 7000), "four"u8.ToArray()));
        core.ProcessInbound(inbound4, now: 1);
        var d4 = Single(socket);
        d4.Payload.Should().BeSameAs(inbound4, "the inbound buffer is queued trimmed to the payload");
        d4.Payload.Span.ToArray().Should().Equal("four"u8.ToArray());
        d4.Remote.ToIPEndPoint().Should().Be(new IPEndPoint(Peer4, 40000));
        d4.Payload.Return();

        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer6, 40001), new IPEndPoint(Us6, 7000), "six"u8.ToArray())), now: 2);
        var d6 = Single(socket);
        d6.Payload.Span.ToArray().Should().Equal("six"u8.ToArray());
        d6.Remote.ToIPEndPoint().Should().Be(new IPEndPoint(Peer6, 40001));
        d6.Payload.Return();

        socket.DatagramsReceived.Should().Be(2);
        core.UdpCounters.DatagramsReceived.Should().Be(2);
        core.Counters.TotalDropped.Should().Be(0);
        core.OutboundCount.Should().Be(0);
    }

    [Fact]
    public void SpecificAddressSockets_ShareAPort_AndEachGetsOnlyItsAddress()
    {
        var core = CreateCore([Us4, Us4b, Us6]);
        var a = Bind(core, Us4, 7000);
        var b = Bind(core, Us4b, 7000);

        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 1), new IPEndPoint(Us4b, 7000), [2])), now: 0);
        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 1), new IPEndPoint(Us4, 7000), [1])), now: 0);
        Single(a).Payload.Span[0].Should().Be(1);
        Single(b).Payload.Span[0].Should().Be(2);

        // No socket on the IPv6 address for that port: port unreachable.
        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer6, 1), new IPEndPoint(Us6, 7000), [3])), now: 0);
        core.Counters.Dropped(NetstackDropReason.NoUdpSocket).Should().Be(1);
        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(1);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(null, "100.64.0.2")]
    [InlineData("100.64.0.2", null)]
    [InlineData("100.64.0.2", "100.64.0.2")]
    [InlineData("fd7a:115c:a1e0::2", null)]
    public void DuplicateBind_IsAddressInUse_UntilTheFirstIsClosed(string? first, string? second)
    {
        var core = CreateCore();
        var socket = Bind(core, first is null ? null : IPAddress.Parse(first), 5353);
        core.TryBindUdp(second is null ? null : IPAddress.Parse(second), 5353, out var duplicate).Should().Be(UdpBindResult.AddressInUse);
        duplicate.Should().BeNull();
        core.UdpSocketCount.Should().Be(1);

        core.CloseUdp(socket);
        core.CloseUdp(socket); // idempotent
        core.UdpSocketCount.Should().Be(0);
        Bind(core, second is null ? null : IPAddress.Parse(second), 5353);
    }

    [Fact]
    public void SameSpecificPortOnTheOtherFamily_IsNotAConflict()
    {
        var core = CreateCore();
        Bind(core, Us4, 5353);
        Bind(core, Us6, 5353);
        core.UdpSocketCount.Should().Be(2);
    }

    [Fact]
    public void Bind_ToAnAddressThatIsNotOurs_IsRefused()
    {
        var core = CreateCore();
        core.TryBindUdp(Peer4, 5353, out _).Should().Be(UdpBindResult.AddressNotAvailable);
        core.TryBindUdp(IPAddress.Parse("::ffff:100.64.0.2"), 5353, out var mapped).Should().Be(UdpBindResult.Bound);
        mapped!.IsIpv6.Should().BeFalse("an IPv4-mapped address binds the IPv4 address");
        core.TryBindUdp(null, 65536, out _).Should().Be(UdpBindResult.InvalidPort);
        core.TryBindUdp(null, -1, out _).Should().Be(UdpBindResult.InvalidPort);
    }

    [Fact]
    public void PortZero_PicksTheNextFreeEphemeralPort()
    {
        var core = CreateCore();
        Bind(core, null, 49153); // taken explicitly: skipped
        var first = Bind(core, null, 0);
        var second = Bind(core, null, 0);
        first.LocalPort.Should().Be(49152);
        second.LocalPort.Should().Be(49154);

        // Next-free, not lowest-free: a port just released is not handed out again at once.
        core.CloseUdp(first);
        Bind(core, null, 0).LocalPort.Should().Be(49155);
    }

    [Fact]
    public void EphemeralRange_WrapsAround_AndIsExhausted()
    {
        var core = CreateCore(udp: new UdpOptions { EphemeralFirstPort = 60000, EphemeralLastPort = 60002 });
        var sockets = Enumerable.Range(0, 3).Select(_ => Bind(core, null, 0)).ToList();
        sockets.Select(s => (int)s.LocalPort).Should().Equal(60000, 60001, 60002);

        core.TryBindUdp(null, 0, out var none).Should().Be(UdpBindResult.NoFreePort);
        none.Should().BeNull();

        core.CloseUdp(sockets[1]);
        Bind(core, null, 0).LocalPort.Should().Be(60001, "the search wraps to the start of the range");
        core.TryBindUdp(null, 0, out _).Should().Be(UdpBindResult.NoFreePort);

        // A specific-address socket also makes a port unavailable to port 0.
        core.CloseUdp(sockets[0]);
        Bind(core, Us4, 60000);
        core.TryBindUdp(null, 0, out _).Should().Be(UdpBindResult.NoFreePort);
    }

    [Fact]
    public void EphemeralRange_TheWholeDefaultRangeCanBeUsed()
    {
        var core = CreateCore(udp: new UdpOptions { ReceiveQueueCapacity = 1 });
        var ports = new HashSet<int>();
        for (int i = 0; i < 65536 - 49152; i++)
        {
            ports.Add(Bind(core, null, 0).LocalPort);
        }

        ports.Should().HaveCount(16384);
        ports.Min().Should().Be(49152);
        ports.Max().Should().Be(65535);
        core.TryBindUdp(null, 0, out _).Should().Be(UdpBindResult.NoFreePort);
    }

    [Fact]
    public void ReceiveQueue_IsBounded_FullDropsAndCounts()
    {
        var core = CreateCore(udp: new UdpOptions { ReceiveQueueCapacity = 4 });
        var socket = Bind(core, null, 7000);
        for (int i = 0; i < 6; i++)
        {
            core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 1000 + i), new IPEndPoint(Us4, 7000), [(byte)i])), now: i);
        }

        socket.DatagramsReceived.Should().Be(4);
        socket.DatagramsDropped.Should().Be(2);
        core.Counters.Dropped(NetstackDropReason.UdpReceiveQueueFull).Should().Be(2);
        core.OutboundCount.Should().Be(0, "a full queue is not a closed port");
        var received = new List<int>();
        while (socket.Receive.TryRead(out var d))
        {
            received.Add(d.Remote.Port);
            d.Payload.Return();
        }

        received.Should().Equal(1000, 1001, 1002, 1003);

        // Room again: the next one is queued.
        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 2000), new IPEndPoint(Us4, 7000), [9])), now: 9);
        Single(socket).Remote.Port.Should().Be(2000);
    }

    [Fact]
    public void DefaultReceiveQueue_Is512Datagrams()
    {
        new UdpOptions().ReceiveQueueCapacity.Should().Be(512);
        var core = CreateCore();
        var socket = Bind(core, null, 7000);
        var packet = Udp(new IPEndPoint(Peer4, 1), new IPEndPoint(Us4, 7000), [1]);
        for (int i = 0; i < 513; i++)
        {
            core.ProcessInbound(Packet(packet), now: 0);
        }

        socket.DatagramsReceived.Should().Be(512);
        socket.DatagramsDropped.Should().Be(1);
        core.CloseUdp(socket);
    }

    [Fact]
    public void Ipv4Checksum_ValidOrZeroIsAccepted_WrongIsDropped()
    {
        var core = CreateCore([IPAddress.Parse("100.100.100.100")]);
        var socket = Bind(core, null, 53);

        core.ProcessInbound(Packet(PacketFixtures.Ipv4UdpDns), now: 0);
        var d = Single(socket);
        d.Remote.ToIPEndPoint().Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.1"), 53124));
        d.Payload.Length.Should().Be(29);
        d.Payload.Span[0].Should().Be(0xab);

        core.ProcessInbound(Packet(WithUdpChecksum(PacketFixtures.Ipv4UdpDns, 0)), now: 0);
        Single(socket).Payload.Length.Should().Be(29, "a zero checksum over IPv4 means none was computed");

        core.ProcessInbound(Packet(WithUdpChecksum(PacketFixtures.Ipv4UdpDns, 0x87a6)), now: 0);
        socket.Receive.TryRead(out _).Should().BeFalse();
        core.Counters.Dropped(NetstackDropReason.BadChecksum).Should().Be(1);
    }

    [Fact]
    public void Ipv6Checksum_IsMandatory_ZeroIsDropped()
    {
        var core = CreateCore([Us6]);
        var socket = Bind(core, null, 5353);

        core.ProcessInbound(Packet(PacketFixtures.Ipv6Udp), now: 0);
        var d = Single(socket);
        System.Text.Encoding.ASCII.GetString(d.Payload.Span).Should().Be("hello tailnet");
        d.Remote.ToIPEndPoint().Should().Be(new IPEndPoint(Peer6, 40000));

        core.ProcessInbound(Packet(WithUdpChecksum(PacketFixtures.Ipv6Udp, 0)), now: 0);
        core.ProcessInbound(Packet(WithUdpChecksum(PacketFixtures.Ipv6Udp, 0xe903)), now: 0);
        socket.Receive.TryRead(out _).Should().BeFalse();
        core.Counters.Dropped(NetstackDropReason.BadChecksum).Should().Be(2);
        core.OutboundCount.Should().Be(0, "a corrupt datagram is not answered");
    }

    [Fact]
    public void MalformedDatagrams_AreDroppedAndCounted()
    {
        var core = CreateCore();
        Bind(core, null, 7000);
        var good = Udp(new IPEndPoint(Peer4, 1), new IPEndPoint(Us4, 7000), [1, 2, 3]);

        // UDP length beyond the IP payload.
        var longer = (byte[])good.Clone();
        longer[25] = 20;
        core.ProcessInbound(Packet(longer), now: 0);

        // Shorter than a UDP header (IP total length cut to 24).
        var stub = good[..24];
        stub[3] = 24;
        Ipv4Packet.FillChecksum(stub);
        core.ProcessInbound(Packet(stub), now: 0);

        // Destination port 0.
        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 1), new IPEndPoint(Us4, 0), [1])), now: 0);

        core.Counters.Dropped(NetstackDropReason.Malformed).Should().Be(2);
        core.Counters.Dropped(NetstackDropReason.Truncated).Should().Be(1);
        core.OutboundCount.Should().Be(0);
    }

    [Fact]
    public void Send_Ipv6_MatchesTheWiresharkCheckedFixture()
    {
        var core = CreateCore([Peer6]);
        var socket = Bind(core, null, 40000);
        core.SendUdp(socket, Remote(Us6, 5353), "hello tailnet"u8, now: 0).Should().Be(UdpSendResult.Sent);
        SingleOutbound(core).Span.ToArray().Should().Equal(PacketFixtures.Ipv6Udp);
        core.UdpCounters.DatagramsSent.Should().Be(1);
    }

    [Fact]
    public void Send_Ipv4_UdpPartMatchesTheFixture_HeaderIsAtomic()
    {
        var core = CreateCore([IPAddress.Parse("100.64.0.1")]);
        var socket = Bind(core, null, 53124);
        var payload = PacketFixtures.Ipv4UdpDns.AsSpan(28).ToArray();
        core.SendUdp(socket, Remote(IPAddress.Parse("100.100.100.100"), 53), payload, now: 0).Should().Be(UdpSendResult.Sent);
        var sent = SingleOutbound(core).Span.ToArray();
        sent.AsSpan(20).ToArray().Should().Equal(PacketFixtures.Ipv4UdpDns.AsSpan(20).ToArray());
        Ipv4Packet.TryCreate(sent, out var ip).Should().BeTrue();
        ip.IsChecksumValid().Should().BeTrue();
        ip.DontFragment.Should().BeTrue();
        ip.TimeToLive.Should().Be(64);
        ip.Protocol.Should().Be(IpProtocol.Udp);
        ip.GetSourceAddress().Should().Be(IPAddress.Parse("100.64.0.1"));
    }

    [Fact]
    public void Send_ComputedZeroChecksum_IsSentAs0xFFFF()
    {
        var core = CreateCore();
        var socket = Bind(core, null, 7000);
        var payload = new byte[8];
        core.SendUdp(socket, Remote(Peer4, 9000), payload, now: 0);
        ushort checksum = UdpChecksum(SingleOutbound(core).Span);

        // Adding the checksum as a data word makes the ones-complement sum 0xFFFF: the computed checksum is then 0.
        payload[0] = (byte)(checksum >> 8);
        payload[1] = (byte)checksum;
        core.SendUdp(socket, Remote(Peer4, 9000), payload, now: 0);
        var sent = SingleOutbound(core).Span.ToArray();
        UdpChecksum(sent).Should().Be(0xFFFF);
        Ipv4Packet.TryCreate(sent, out var ip).Should().BeTrue();
        UdpDatagram.TryCreate(ip.Payload, out var udp).Should().BeTrue();
        udp.IsChecksumValidIpv4(ip.Source, ip.Destination).Should().BeTrue();
    }

    [Fact]
    public void Send_SourceIsOurAddressOfTheDestinationsFamily_OrTheBoundOne()
    {
        var core = CreateCore([Us4, Us4b, Us6]);
        var any = Bind(core, null, 7000);
        core.SendUdp(any, Remote(Peer6, 9), [1], now: 0);
        Ipv6Packet.TryCreate(SingleOutbound(core).Span, out var ip6).Should().BeTrue();
        ip6.GetSourceAddress().Should().Be(Us6);

        core.SendUdp(any, Remote(IPAddress.Parse("::ffff:100.64.0.1"), 9), [1], now: 0);
        Ipv4Packet.TryCreate(SingleOutbound(core).Span, out var ip4).Should().BeTrue();
        ip4.GetSourceAddress().Should().Be(Us4);
        ip4.GetDestinationAddress().Should().Be(Peer4);

        var specific = Bind(core, Us4b, 7001);
        core.SendUdp(specific, Remote(Peer4, 9), [1], now: 0);
        Ipv4Packet.TryCreate(SingleOutbound(core).Span, out var ip4b).Should().BeTrue();
        ip4b.GetSourceAddress().Should().Be(Us4b);
        core.SendUdp(specific, Remote(Peer6, 9), [1], now: 0).Should().Be(UdpSendResult.NoSourceAddress);
    }

    [Fact]
    public void Send_Errors()
    {
        var core = CreateCore([Us4]);
        var socket = Bind(core, null, 7000);
        core.SendUdp(socket, Remote(Peer4, 0), [1], now: 0).Should().Be(UdpSendResult.InvalidDestination);
        core.SendUdp(socket, Remote(IPAddress.Any, 9), [1], now: 0).Should().Be(UdpSendResult.InvalidDestination);
        core.SendUdp(socket, Remote(Peer6, 9), [1], now: 0).Should().Be(UdpSendResult.NoSourceAddress);

        core.MaxUdpPayload(isIpv6: false).Should().Be(1280 - 28);
        core.MaxUdpPayload(isIpv6: true).Should().Be(1280 - 48);
        core.SendUdp(socket, Remote(Peer4, 9), new byte[1253], now: 0).Should().Be(UdpSendResult.TooBig);
        core.SendUdp(socket, Remote(Peer4, 9), new byte[1252], now: 0).Should().Be(UdpSendResult.Sent);
        SingleOutbound(core).Length.Should().Be(1280);

        core.CloseUdp(socket);
        core.SendUdp(socket, Remote(Peer4, 9), [1], now: 0).Should().Be(UdpSendResult.SocketClosed);
        core.UdpCounters.DatagramsSent.Should().Be(1);
    }

    [Fact]
    public void Send_OutboundQueueFull_DropsAndCounts()
    {
        var core = CreateCore(outboundCapacity: 1);
        var socket = Bind(core, null, 7000);
        core.SendUdp(socket, Remote(Peer4, 9), [1], now: 0).Should().Be(UdpSendResult.Sent);
        core.SendUdp(socket, Remote(Peer4, 9), [2], now: 0).Should().Be(UdpSendResult.OutboundQueueFull);
        core.Counters.Dropped(NetstackDropReason.OutboundQueueFull).Should().Be(1);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    public void Send_PayloadBufferWithoutHeadroom_IsMoved(int headroom)
    {
        var core = CreateCore([Peer6]);
        var socket = Bind(core, null, 40000);
        var buffer = _pool.Rent(headroom);
        "hello tailnet"u8.CopyTo(buffer.Append(13));
        core.SendUdp(socket, Remote(Us6, 5353), buffer, now: 0).Should().Be(UdpSendResult.Sent);
        SingleOutbound(core).Span.ToArray().Should().Equal(PacketFixtures.Ipv6Udp);
    }

    [Fact]
    public void Send_PayloadBufferWithHeadroom_GetsItsHeadersInPlace()
    {
        var core = CreateCore();
        var socket = Bind(core, null, 7000);
        var buffer = _pool.Rent(NetstackCore.UdpPayloadHeadroom(isIpv6: false));
        buffer.Append(3).Fill(7);
        core.SendUdp(socket, Remote(Peer4, 9), buffer, now: 0);
        var sent = SingleOutbound(core);
        sent.Should().BeSameAs(buffer);
        sent.Offset.Should().Be(PacketBufferPool.DefaultHeadroom);
        sent.Length.Should().Be(31);
    }

    [Fact]
    public async Task Close_CompletesTheQueueWithObjectDisposed_AndReturnsQueuedBuffers()
    {
        var core = CreateCore();
        var socket = Bind(core, null, 7000);
        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 1), new IPEndPoint(Us4, 7000), [1])), now: 0);
        var waiting = Bind(core, null, 7001).Receive.ReadAsync().AsTask();

        core.CloseUdp(socket);
        socket.IsClosed.Should().BeTrue();
        socket.Receive.TryRead(out _).Should().BeFalse("queued datagrams are discarded");
        (await FluentActions.Awaiting(() => socket.Receive.ReadAsync().AsTask()).Should().ThrowAsync<ChannelClosedException>())
            .WithInnerException<ObjectDisposedException>();

        // After close the port is closed: datagrams get port unreachable.
        core.ProcessInbound(Packet(Udp(new IPEndPoint(Peer4, 1), new IPEndPoint(Us4, 7000), [1])), now: 0);
        core.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(1);

        // Clear (the loop stopping) closes every socket.
        core.Clear();
        core.UdpSocketCount.Should().Be(0);
        (await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<ChannelClosedException>())
            .WithInnerException<ObjectDisposedException>();
    }
}
