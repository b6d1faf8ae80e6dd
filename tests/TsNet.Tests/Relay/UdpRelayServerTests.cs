using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Netstack;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Relay;

/// <summary>The relay server over real loopback UDP sockets: allocation API, two clients binding and relaying, lifetimes, disposal.</summary>
public sealed class UdpRelayServerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TwoClients_BindOverLoopback_ThenExchangeDiscoPingsAndData()
    {
        await using var server = await StartLoopbackAsync();
        using var a = new LoopbackClient();
        using var b = new LoopbackClient();
        var endpoint = server.AllocateEndpoint(a.Key.PublicKey, b.Key.PublicKey);
        endpoint.AddressPorts.Should().Equal(new IPEndPoint(IPAddress.Loopback, server.Port));
        var relay = endpoint.AddressPorts[0];

        var handshakeA = await a.BindAsync(endpoint, b.Key.PublicKey, generation: 1);
        var handshakeB = await b.BindAsync(endpoint, a.Key.PublicKey, generation: 1);
        await WaitUntilAsync(() => server.GetCounters().LegsBound == 2);

        // §4.4: after answering, each client pings the other through the relay; a ping arriving means the path works.
        var ping = new byte[14];
        new DiscoPing(Enumerable.Range(1, 12).Select(i => (byte)i).ToArray(), null, 0).Write(ping);
        var datagram = new byte[200];
        a.Socket.SendTo(datagram.AsSpan(0, handshakeA.WritePeerDisco(ping, datagram)), relay);
        var (received, from) = await b.ReceiveAsync();
        from.Should().Be(relay);
        var inner = new byte[100];
        handshakeB.OpenPeerDisco(received, inner).Should().Be(14);
        inner.AsSpan(0, 14).ToArray().Should().Equal(ping);

        // WireGuard-framed data both ways, forwarded byte for byte including the Geneve header.
        for (int i = 0; i < 20; i++)
        {
            var payload = Enumerable.Repeat((byte)i, 100 + i).ToArray();
            var sent = new byte[8 + payload.Length];
            handshakeA.WrapWireGuard(payload, sent);
            a.Socket.SendTo(sent, relay);
            (await b.ReceiveAsync()).Bytes.Should().Equal(sent);

            handshakeB.WrapWireGuard(payload, sent);
            b.Socket.SendTo(sent, relay);
            (await a.ReceiveAsync()).Bytes.Should().Equal(sent);
        }

        // A third party with the VNI gets nothing through.
        using var stranger = new LoopbackClient();
        var spoof = new byte[64];
        handshakeA.WrapWireGuard(new byte[56], spoof);
        stranger.Socket.SendTo(spoof, relay);
        await WaitUntilAsync(() => server.GetCounters().Drops[UdpRelayDropReason.UnknownSource] == 1);

        var counters = server.GetCounters();
        counters.ForwardedPackets.Should().Be(41);
        counters.ChallengesSent.Should().Be(2);
        counters.Endpoints.Should().Be(1);
        counters.TotalDrops.Should().Be(1);
        counters.SendFailures.Should().Be(0);
    }

    [Fact]
    public async Task AllocateEndpoint_ReturnsSortedPair_ExistingEndpointUnchanged_AndServerFields()
    {
        await using var server = await StartLoopbackAsync(o =>
        {
            o.AdvertisedEndpoints.Add(IPEndPoint.Parse("203.0.113.1:3478"));
            o.DiscoPrivateKey = new DiscoKey(RelayVectors.ServerPrivate);
        });
        server.DiscoPublicKey.Bytes.ToArray().Should().Equal(RelayVectors.ServerPublic);
        var a = DiscoKey.Generate().PublicKey;
        var b = DiscoKey.Generate().PublicKey;

        var first = server.AllocateEndpoint(a, b);
        first.ServerDisco.Should().Be(server.DiscoPublicKey);
        first.ClientDisco.Should().Equal(a < b ? new[] { a, b } : new[] { b, a });
        first.Vni.Should().Be(1);
        first.LamportId.Should().Be(1);
        first.AddressPorts.Should().Equal(IPEndPoint.Parse("203.0.113.1:3478"), new IPEndPoint(IPAddress.Loopback, server.Port));
        first.BindLifetime.Should().Be(TimeSpan.FromSeconds(30));
        first.SteadyStateLifetime.Should().Be(TimeSpan.FromMinutes(5));

        var again = server.AllocateEndpoint(b, a);
        again.Vni.Should().Be(first.Vni);
        again.LamportId.Should().Be(first.LamportId);
        server.EndpointCount.Should().Be(1);

        var third = server.AllocateEndpoint(a, DiscoKey.Generate().PublicKey);
        third.LamportId.Should().Be(2);
        third.Vni.Should().Be(2);

        FluentActions.Invoking(() => server.AllocateEndpoint(server.DiscoPublicKey, a)).Should().Throw<ArgumentException>().WithMessage("*server's own disco key*");
        FluentActions.Invoking(() => server.AllocateEndpoint(a, a)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => server.AllocateEndpoint(default, a)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task AllocateEndpoint_WithoutCandidateAddresses_IsNotReady_UntilSomeAreSet()
    {
        await using var server = await StartLoopbackAsync(o => o.AdvertiseLocalAddresses = false);
        server.AdvertisedEndpoints.Should().BeEmpty();
        var act = () => server.AllocateEndpoint(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey);
        act.Should().Throw<UdpRelayServerNotReadyException>().Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(3));
        server.EndpointCount.Should().Be(0);

        server.SetAdvertisedEndpoints([IPEndPoint.Parse("192.0.2.7:7")]);
        act().AddressPorts.Should().Equal(IPEndPoint.Parse("192.0.2.7:7"));
    }

    [Fact]
    public async Task CollectionTimer_FreesUnboundEndpoints_AfterTheBindLifetime()
    {
        var time = new ManualTimeProvider();
        await using var server = await StartLoopbackAsync(o => o.TimeProvider = time);
        var first = server.AllocateEndpoint(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey);
        time.Advance(TimeSpan.FromSeconds(30));
        server.EndpointCount.Should().Be(1, "at the first collection the endpoint is exactly 30 s old, not older");
        time.Advance(TimeSpan.FromSeconds(30));
        server.EndpointCount.Should().Be(0);

        var next = server.AllocateEndpoint(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey);
        next.LamportId.Should().Be(first.LamportId + 1);
        next.Vni.Should().Be(2, "selection is sequential: the freed VNI 1 comes back only after wraparound");
    }

    [Fact]
    public async Task BoundEndpoint_ExpiresOverRealSockets_WhenOneSideStaysSilent()
    {
        var time = new ManualTimeProvider();
        await using var server = await StartLoopbackAsync(o => o.TimeProvider = time);
        using var a = new LoopbackClient();
        using var b = new LoopbackClient();
        var endpoint = server.AllocateEndpoint(a.Key.PublicKey, b.Key.PublicKey);
        var handshakeA = await a.BindAsync(endpoint, b.Key.PublicKey, 3);
        await b.BindAsync(endpoint, a.Key.PublicKey, 4);
        await WaitUntilAsync(() => server.GetCounters().LegsBound == 2);

        var data = new byte[40];
        handshakeA.WrapWireGuard(new byte[32], data);
        time.Advance(TimeSpan.FromMinutes(4));
        a.Socket.SendTo(data, endpoint.AddressPorts[0]);
        (await b.ReceiveAsync()).Bytes.Should().Equal(data);
        server.EndpointCount.Should().Be(1);

        time.Advance(TimeSpan.FromMinutes(2));
        server.EndpointCount.Should().Be(0, "B has been silent for 6 min (its last activity was its bind)");
        a.Socket.SendTo(data, endpoint.AddressPorts[0]);
        await WaitUntilAsync(() => server.GetCounters().Drops[UdpRelayDropReason.UnknownVni] == 1);
    }

    [Fact]
    public async Task Dispose_IsIdempotent_StopsReceivers_AndFreesThePort()
    {
        var server = await StartLoopbackAsync();
        var port = server.Port;
        var receivers = server.Receivers;
        receivers.Should().NotBeEmpty();
        await server.DisposeAsync();
        await server.DisposeAsync();
        receivers.Should().OnlyContain(t => t.IsCompleted);
        FluentActions.Invoking(() => server.AllocateEndpoint(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey))
            .Should().Throw<ObjectDisposedException>();

        var options = new UdpRelayServerOptions { Port = port, BindAddresses = { IPAddress.Loopback } };
        await using var again = await UdpRelayServer.StartAsync(options);
        again.Port.Should().Be(port);
    }

    [Fact]
    public async Task DefaultBind_UsesTheWildcards_OnOnePort_AndAdvertisesInterfaceAddresses()
    {
        await using var server = await UdpRelayServer.StartAsync(new UdpRelayServerOptions());
        server.LocalEndPoints.Should().OnlyContain(e => e.Port == server.Port);
        server.LocalEndPoints.Should().Contain(e => e.Address.Equals(IPAddress.Any));
        server.AdvertisedEndpoints.Should().NotBeEmpty().And.OnlyContain(e => e.Port == server.Port);
        server.AdvertisedEndpoints.Should().NotContain(e => e.Address.Equals(IPAddress.Any) || e.Address.Equals(IPAddress.IPv6Any));
    }

    [Fact]
    public void PublicDropReasons_MirrorTheCoresReasons()
    {
        Enum.GetNames<UdpRelayDropReason>().Should().Equal(Enum.GetNames<UdpRelayDropReason>());
        Enum.GetValues<UdpRelayDropReason>().Select(v => (int)v).Should().Equal(Enum.GetValues<UdpRelayDropReason>().Select(v => (int)v));
    }

    [Theory]
    [InlineData(-1, 30, 300)]
    [InlineData(70000, 30, 300)]
    [InlineData(0, 0, 300)]
    [InlineData(0, 30, -1)]
    public async Task InvalidOptions_AreRejected(int port, int bindSeconds, int steadySeconds)
    {
        var options = new UdpRelayServerOptions { Port = port, BindLifetime = TimeSpan.FromSeconds(bindSeconds), SteadyStateLifetime = TimeSpan.FromSeconds(steadySeconds) };
        await FluentActions.Awaiting(() => UdpRelayServer.StartAsync(options).AsTask()).Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task NodeRelay_UsesTheNodesClock_AndIsDisposedWithTheNode()
    {
        var time = new ManualTimeProvider();
        var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            TimeProvider = time,
        });
        var options = new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } };
        var relay = await node.StartUdpRelayServerAsync(options);
        var early = await node.StartUdpRelayServerAsync(options);
        await early.DisposeAsync();
        relay.AllocateEndpoint(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey);
        time.Advance(TimeSpan.FromSeconds(61));
        relay.EndpointCount.Should().Be(0, "the relay's collection timer runs on the node's TimeProvider");

        var receivers = relay.Receivers;
        node.OwnedTasks().Should().Contain(receivers).And.NotContain(early.Receivers, "a relay disposed early is forgotten");
        await node.DisposeAsync();
        receivers.Should().OnlyContain(t => t.IsCompleted);
        FluentActions.Invoking(() => relay.AllocateEndpoint(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey))
            .Should().Throw<ObjectDisposedException>();
        await FluentActions.Awaiting(() => node.StartUdpRelayServerAsync(options).AsTask()).Should().ThrowAsync<ObjectDisposedException>();
    }

    private static async Task<UdpRelayServer> StartLoopbackAsync(Action<UdpRelayServerOptions>? configure = null)
    {
        var options = new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } };
        configure?.Invoke(options);
        return await UdpRelayServer.StartAsync(options);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within the deadline");
            await Task.Delay(10);
        }
    }

    /// <summary>A client on a loopback UDP socket running the sans-IO <see cref="RelayHandshakeClient"/>.</summary>
    private sealed class LoopbackClient : IDisposable
    {
        public LoopbackClient()
        {
            Socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }

        public DiscoKey Key { get; } = DiscoKey.Generate();

        public Socket Socket { get; } = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public async Task<RelayHandshakeClient> BindAsync(RelayEndpoint endpoint, DiscoKey remote, uint generation)
        {
            var handshake = new RelayHandshakeClient(Key.Bytes, endpoint.ServerDisco, remote, endpoint.Vni, generation);
            var bind = new byte[RelayHandshakeClient.HandshakeDatagramLength];
            foreach (var candidate in endpoint.AddressPorts)
            {
                Socket.SendTo(bind.AsSpan(0, handshake.WriteBind(bind)), candidate);
            }

            handshake.State.Should().Be(RelayHandshakeClientState.BindSent);
            var (challenge, from) = await ReceiveAsync();
            var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
            var length = handshake.HandleChallenge(challenge, UnderlayAddress.FromIPEndPoint(from), answer);
            length.Should().BeGreaterThan(0);
            Socket.SendTo(answer.AsSpan(0, length), from);
            handshake.State.Should().Be(RelayHandshakeClientState.AnswerSent);
            return handshake;
        }

        public async Task<(byte[] Bytes, IPEndPoint From)> ReceiveAsync()
        {
            var buffer = new byte[2048];
            using var timeout = new CancellationTokenSource(Deadline);
            var result = await Socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            return (buffer.AsSpan(0, result.ReceivedBytes).ToArray(), (IPEndPoint)result.RemoteEndPoint);
        }

        public void Dispose() => Socket.Dispose();
    }
}
