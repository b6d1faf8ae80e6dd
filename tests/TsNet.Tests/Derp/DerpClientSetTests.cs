using System.Text;
using TsNet.Control.Protocol;
using TsNet.Derp;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Derp;

/// <summary><see cref="DerpClientSet"/> against the in-process <see cref="DerpTestServer"/>.</summary>
public sealed class DerpClientSetTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Handshake_AndPackets_FlowBothWays_WithSourceKeyAndDerpAddress()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        await using var b = new DerpTestClient();
        foreach (var client in new[] { a, b })
        {
            client.Set.SetDerpMap(server.Map());
            client.Set.SetHomeRegion(1);
        }

        a.Set.HomeRegion.Should().Be(1);
        await DerpTestClient.WaitUntilAsync(() => server.IsConnected(a.PublicKey) && server.IsConnected(b.PublicKey) && a.IsConnected(1) && b.IsConnected(1), cts.Token, "both connected");

        a.Set.TrySend(1, b.PublicKey, "hello"u8).Should().BeTrue();
        var received = await b.ReceiveAsync(cts.Token);
        received.Region.Should().Be(1);
        received.Source.Should().Equal(a.PublicKey);
        Encoding.ASCII.GetString(received.Packet).Should().Be("hello");

        b.Set.TrySend(1, a.PublicKey, "world"u8).Should().BeTrue();
        var reply = await a.ReceiveAsync(cts.Token);
        reply.Source.Should().Equal(b.PublicKey);
        Encoding.ASCII.GetString(reply.Packet).Should().Be("world");

        server.SniNames.Should().AllBe(DerpTestServer.HostName);
        server.NegotiatedAlpn.Should().AllBe("http/1.1", "the client must not offer h2");
        server.ClientInfos.Should().AllBe("""{"version":2,"CanAckPings":true}""");
        server.RequestHeads.Should().AllSatisfy(head => head.Should().StartWith("GET /derp HTTP/1.1\r\n").And.Contain("Upgrade: DERP\r\n").And.Contain("Connection: Upgrade\r\n"));
        await DerpTestClient.WaitUntilAsync(() => server.Preferred.TryGetValue(Convert.ToHexStringLower(a.PublicKey), out var p) && p == 1, cts.Token, "NotePreferred(1)");
        a.ConnectedEvents.Should().Be(1);
        var status = a.Set.GetStatus().Should().ContainSingle().Subject;
        status.Should().BeEquivalentTo(new { RegionId = 1, RegionCode = "r1", Connected = true, IsHome = true, LastError = (string?)null, PacketsSent = 1L, PacketsReceived = 1L, Drops = 0L });
    }

    [Fact]
    public async Task PacketsQueuedWhileConnecting_AreSentOnceConnected_InOrder()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        await using var b = new DerpTestClient();
        b.Set.SetDerpMap(server.Map());
        b.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => server.IsConnected(b.PublicKey), cts.Token, "b connected");

        a.Set.SetDerpMap(server.Map());
        for (var i = 0; i < 100; i++)
        {
            a.Set.TrySend(1, b.PublicKey, [(byte)i, 1, 2, 3]).Should().BeTrue("the region connects on demand");
        }

        for (var i = 0; i < 100; i++)
        {
            (await b.ReceiveAsync(cts.Token)).Packet.Should().Equal((byte)i, 1, 2, 3);
        }

        a.Set.HomeRegion.Should().Be(0);
        a.Set.GetStatus().Should().ContainSingle().Which.IsHome.Should().BeFalse();
    }

    [Fact]
    public async Task PacketOf64KiB_CrossesWhenThePoolFitsIt_AndIsDroppedWhenItDoesNot()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        await using var big = new DerpTestClient(bufferSize: 70 * 1024);
        await using var small = new DerpTestClient(bufferSize: 512);
        foreach (var client in new[] { a, big, small })
        {
            client.Set.SetDerpMap(server.Map());
            client.Set.SetHomeRegion(1);
        }

        await DerpTestClient.WaitUntilAsync(() => server.IsConnected(big.PublicKey) && server.IsConnected(small.PublicKey) && a.IsConnected(1), cts.Token, "connected");
        var packet = Enumerable.Range(0, DerpProtocol.MaxPacketSize).Select(i => (byte)(i * 7)).ToArray();
        a.Set.TrySend(1, big.PublicKey, packet).Should().BeTrue();
        (await big.ReceiveAsync(cts.Token)).Packet.Should().Equal(packet);

        a.Set.TrySend(1, small.PublicKey, new byte[1000]).Should().BeTrue();
        a.Set.TrySend(1, small.PublicKey, "after"u8).Should().BeTrue();
        Encoding.ASCII.GetString((await small.ReceiveAsync(cts.Token)).Packet).Should().Be("after", "the oversize one is skipped and the stream stays in step");
        small.Set.InboundDrops.Should().Be(1);
        small.Set.GetStatus().Single().Drops.Should().Be(1);
    }

    [Fact]
    public async Task TrySend_RefusesUnknownRegionOversizePacketAndBadKey_Counted()
    {
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        a.Set.TrySend(1, new byte[32], "x"u8).Should().BeFalse("no map yet");
        a.Set.SetDerpMap(server.Map());
        a.Set.TrySend(2, new byte[32], "x"u8).Should().BeFalse("region 2 is not in the map");
        a.Set.TrySend(1, new byte[32], new byte[DerpProtocol.MaxPacketSize + 1]).Should().BeFalse("over 64 KiB");
        a.Set.TrySend(1, new byte[31], "x"u8).Should().BeFalse("a node key is 32 bytes");
        a.Set.SendDrops.Should().Be(4);
        a.Set.GetStatus().Should().BeEmpty("nothing was sent to a known region");
    }

    [Fact]
    public async Task FullSendQueue_RefusesAndCounts_AndDisposeReturnsEveryBuffer()
    {
        // A region whose node refuses connections: the client keeps retrying, the queue fills.
        int deadPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            deadPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var a = new DerpTestClient(queueCapacity: 4);
        var map = new DERPMap
        {
            Regions = new Dictionary<int, DERPRegion?>
            {
                [5] = new DERPRegion { RegionID = 5, RegionCode = "dead", Nodes = [new DERPNode { Name = "5a", HostName = "dead.test", IPv4 = "127.0.0.1", IPv6 = "none", DERPPort = deadPort, InsecureForTests = true }] },
            },
        };
        a.Set.SetDerpMap(map);
        var accepted = Enumerable.Range(0, 10).Count(_ => a.Set.TrySend(5, new byte[32], new byte[100]));
        accepted.Should().Be(4);
        a.Set.SendDrops.Should().Be(6);
        a.Set.GetStatus().Single().Drops.Should().Be(6);
        using var cts = new CancellationTokenSource(Bound);
        await DerpTestClient.WaitUntilAsync(() => a.Set.GetStatus().Single().LastError is not null, cts.Token, "a connect error");
        a.Set.GetStatus().Single().Connected.Should().BeFalse();

        await a.DisposeAsync();
        a.Set.Tasks.Should().OnlyContain(task => task.IsCompleted);
        a.Pool.IdleCount.Should().Be((int)a.Pool.CreatedCount, "every queued frame went back to the pool");
        a.Pool.CreatedCount.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Ping_ClientToServer_IsAnswered_AndServerPing_GetsPongWithSameBytes()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        a.Set.SetDerpMap(server.Map());
        a.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(1) && server.IsConnected(a.PublicKey), cts.Token, "connected");

        (await a.Set.PingAsync(1, TimeSpan.FromSeconds(5), cts.Token)).Should().BeTrue();
        (await a.Set.PingAsync(2, TimeSpan.FromSeconds(5), cts.Token)).Should().BeFalse("no such region");

        await server.SendFrameAsync(a.PublicKey, [0x12, 0, 0, 0, 8, 9, 8, 7, 6, 5, 4, 3, 2]);
        await DerpTestClient.WaitUntilAsync(() => server.Pongs.Contains("0908070605040302"), cts.Token, "pong");
    }

    [Fact]
    public async Task PeerGone_RaisesEvent_AndUnknownFramesAreSkipped()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        var gone = new TaskCompletionSource<(int, WireGuardKey)>(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Set.PeerGone += (region, key) => gone.TrySetResult((region, key));
        a.Set.SetDerpMap(server.Map(7));
        a.Set.SetHomeRegion(7);
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(7) && server.IsConnected(a.PublicKey), cts.Token, "connected");

        var peer = WireGuardKey.Generate().PublicKey;
        await server.SendFrameAsync(a.PublicKey, [0x42, 0, 0, 0, 3, 1, 2, 3]);
        await server.SendFrameAsync(a.PublicKey, [0x06, 0, 0, 0, 0]);
        await server.SendFrameAsync(a.PublicKey, [0x08, 0, 0, 0, 32, .. peer.Bytes]);
        var (region, key) = await gone.Task.WaitAsync(cts.Token);
        region.Should().Be(7);
        key.Should().Be(peer);
        a.IsConnected(7).Should().BeTrue();
        a.ConnectedEvents.Should().Be(1, "skipping frames did not break the connection");
    }

    [Fact]
    public async Task ServerDropsConnection_ClientReconnects_RaisesConnected_AndDeliversAgain()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        await using var b = new DerpTestClient();
        foreach (var client in new[] { a, b })
        {
            client.Set.SetDerpMap(server.Map());
            client.Set.SetHomeRegion(1);
        }

        await DerpTestClient.WaitUntilAsync(() => server.Handshakes == 2, cts.Token, "both connected");
        server.DropAll();
        await DerpTestClient.WaitUntilAsync(() => server.Handshakes == 4 && a.ConnectedEvents == 2 && b.ConnectedEvents == 2, cts.Token, "both reconnected");
        await DerpTestClient.WaitUntilAsync(() => server.IsConnected(b.PublicKey), cts.Token, "b registered");
        a.Set.TrySend(1, b.PublicKey, "again"u8).Should().BeTrue();
        Encoding.ASCII.GetString((await b.ReceiveAsync(cts.Token)).Packet).Should().Be("again");
    }

    [Fact]
    public async Task Restarting_ClosesAndReconnectsAfterTheHint_OnTheClock()
    {
        using var cts = new CancellationTokenSource(Bound);
        var time = new ManualTimeProvider();
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient(time: time);
        a.Set.SetDerpMap(server.Map());
        a.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => server.Handshakes == 1 && server.IsConnected(a.PublicKey) && a.IsConnected(1), cts.Token, "connected");

        // Restarting: reconnect in 60 000 ms, try for 1 000 ms. Only the maintenance timer runs while connected.
        time.ActiveTimers.Should().Be(1);
        await server.SendFrameAsync(a.PublicKey, [0x15, 0, 0, 0, 8, 0, 0, 0xea, 0x60, 0, 0, 0x03, 0xe8]);
        await DerpTestClient.WaitUntilAsync(() => !a.IsConnected(1) && time.ActiveTimers == 2, cts.Token, "waiting out the hint");
        a.Set.GetStatus().Single().LastError.Should().Be("the server is restarting");

        time.Advance(TimeSpan.FromSeconds(59));
        server.Handshakes.Should().Be(1, "the hint is 60 s; nothing reconnects before its timer fires");
        time.Advance(TimeSpan.FromSeconds(1));
        await DerpTestClient.WaitUntilAsync(() => server.Handshakes == 2 && a.ConnectedEvents == 2, cts.Token, "reconnected after the restart hint");
    }

    [Fact]
    public async Task HomeChange_SendsNotePreferred_AndRemovedRegionCloses()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var one = new DerpTestServer();
        await using var two = new DerpTestServer();
        await using var a = new DerpTestClient();
        var keyHex = Convert.ToHexStringLower(a.PublicKey);
        a.Set.SetDerpMap(DerpTestServer.MapOf((1, one), (2, two)));
        a.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => one.Preferred.TryGetValue(keyHex, out var p) && p == 1, cts.Token, "home 1 preferred");

        a.Set.SetHomeRegion(2);
        await DerpTestClient.WaitUntilAsync(() => two.Preferred.TryGetValue(keyHex, out var p) && p == 1, cts.Token, "home 2 preferred");
        await DerpTestClient.WaitUntilAsync(() => one.Preferred.TryGetValue(keyHex, out var p) && p == 0, cts.Token, "region 1 not preferred any more");

        a.Set.SetDerpMap(DerpTestServer.MapOf((2, two)));
        await DerpTestClient.WaitUntilAsync(() => !one.IsConnected(a.PublicKey), cts.Token, "region 1 closed");
        a.Set.GetStatus().Select(s => s.RegionId).Should().Equal(2);

        a.Set.SetDerpMap(null);
        await DerpTestClient.WaitUntilAsync(() => !two.IsConnected(a.PublicKey), cts.Token, "region 2 closed");
        a.Set.GetStatus().Should().BeEmpty();
    }

    [Fact]
    public async Task IdleNonHomeRegion_ClosesAfterIdleTimeout_OnTheClock_HomeStays()
    {
        using var cts = new CancellationTokenSource(Bound);
        var time = new ManualTimeProvider();
        await using var home = new DerpTestServer();
        await using var other = new DerpTestServer();
        await using var a = new DerpTestClient(time: time, idleTimeout: TimeSpan.FromSeconds(30));
        a.Set.SetDerpMap(DerpTestServer.MapOf((1, home), (2, other)));
        a.Set.SetHomeRegion(1);
        a.Set.TrySend(2, new byte[32], "wake"u8).Should().BeTrue();
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(1) && a.IsConnected(2) && other.IsConnected(a.PublicKey), cts.Token, "both regions connected");

        time.Advance(TimeSpan.FromSeconds(15));
        a.Set.GetStatus().Select(s => s.RegionId).Should().Equal([1, 2], "15 s idle is under the 30 s timeout");
        time.Advance(TimeSpan.FromSeconds(15));
        await DerpTestClient.WaitUntilAsync(() => a.Set.GetStatus().Count == 1, cts.Token, "region 2 closed");
        a.Set.GetStatus().Single().RegionId.Should().Be(1);
        await DerpTestClient.WaitUntilAsync(() => !other.IsConnected(a.PublicKey), cts.Token, "the server saw the close");
        home.IsConnected(a.PublicKey).Should().BeTrue();

        // A send reopens it on demand.
        a.Set.TrySend(2, new byte[32], "again"u8).Should().BeTrue();
        await DerpTestClient.WaitUntilAsync(() => other.IsConnected(a.PublicKey), cts.Token, "region 2 reopened");
    }

    [Fact]
    public async Task SilentConnection_IsReplacedAfterTheReadTimeout()
    {
        using var cts = new CancellationTokenSource(Bound);
        var time = new ManualTimeProvider();
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient(time: time);
        a.Set.SetDerpMap(server.Map());
        a.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(1) && server.Handshakes == 1, cts.Token, "connected");
        a.Set.MaintenanceInterval.Should().Be(TimeSpan.FromSeconds(15));

        for (var i = 0; i < 7; i++)
        {
            time.Advance(a.Set.MaintenanceInterval);
        }

        server.Handshakes.Should().Be(1, "105 s without a frame is not yet dead");
        time.Advance(a.Set.MaintenanceInterval);
        time.Advance(a.Set.MaintenanceInterval);

        // The reconnect waits its backoff on the manual clock: keep it moving until the new handshake lands.
        while (server.Handshakes < 2)
        {
            cts.Token.ThrowIfCancellationRequested();
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(10, CancellationToken.None);
        }

        await DerpTestClient.WaitUntilAsync(() => a.ConnectedEvents == 2, cts.Token, "reconnected");
    }

    [Fact]
    public async Task CertificatePin_MatchingConnects_WrongOneAndUnverifiedDoNot()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var pinned = new DerpTestClient();
        await using var wrong = new DerpTestClient();
        await using var unverified = new DerpTestClient();
        pinned.Set.SetDerpMap(Map(server.Node(1, "sha256-raw:" + server.CertificateSha256, insecure: false)));
        wrong.Set.SetDerpMap(Map(server.Node(1, "sha256-raw:" + new string('0', 64), insecure: false)));
        unverified.Set.SetDerpMap(Map(server.Node(1, certName: null, insecure: false)));
        foreach (var client in new[] { pinned, wrong, unverified })
        {
            client.Set.SetHomeRegion(1);
        }

        await DerpTestClient.WaitUntilAsync(() => pinned.IsConnected(1), cts.Token, "pinned connects");
        await DerpTestClient.WaitUntilAsync(() => wrong.Set.GetStatus().Single().LastError is not null && unverified.Set.GetStatus().Single().LastError is not null, cts.Token, "errors");
        wrong.Set.GetStatus().Single().LastError.Should().StartWith("TLS");
        unverified.Set.GetStatus().Single().LastError.Should().StartWith("TLS");
        server.IsConnected(wrong.PublicKey).Should().BeFalse();
        server.IsConnected(unverified.PublicKey).Should().BeFalse();

        static DERPMap Map(DERPNode node) => new()
        {
            Regions = new Dictionary<int, DERPRegion?> { [1] = new DERPRegion { RegionID = 1, Nodes = [new DERPNode { Name = "stun", STUNOnly = true }, node] } },
        };
    }

    [Fact]
    public async Task NodesAreTriedInOrder_ARefusingNodeIsSkipped_AndANodeWithoutAddressIsUnusable()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        await using var a = new DerpTestClient();
        await using var b = new DerpTestClient();
        var refusing = server.Node(1) with { Name = "refusing", DERPPort = DeadPort() };
        var noAddress = server.Node(1) with { Name = "no-address", IPv4 = "none", IPv6 = "none" };
        a.Set.SetDerpMap(new DERPMap { Regions = new Dictionary<int, DERPRegion?> { [1] = new DERPRegion { RegionID = 1, Nodes = [refusing, server.Node(1)] } } });
        b.Set.SetDerpMap(new DERPMap { Regions = new Dictionary<int, DERPRegion?> { [1] = new DERPRegion { RegionID = 1, Nodes = [noAddress] } } });
        a.Set.SetHomeRegion(1);
        b.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => a.IsConnected(1) && server.IsConnected(a.PublicKey), cts.Token, "the second node connects");
        await DerpTestClient.WaitUntilAsync(() => b.Set.GetStatus().Single().LastError is not null, cts.Token, "an error");
        b.Set.GetStatus().Single().LastError.Should().Contain("no usable address");
    }

    private static int DeadPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Dispose_EndsEveryTask_ReturnsBuffers_AndIsIdempotent()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new DerpTestServer();
        var a = new DerpTestClient();
        await using var b = new DerpTestClient();
        a.Set.SetDerpMap(server.Map());
        b.Set.SetDerpMap(server.Map());
        a.Set.SetHomeRegion(1);
        b.Set.SetHomeRegion(1);
        await DerpTestClient.WaitUntilAsync(() => server.IsConnected(a.PublicKey) && server.IsConnected(b.PublicKey), cts.Token, "connected");
        for (var i = 0; i < 50; i++)
        {
            a.Set.TrySend(1, b.PublicKey, new byte[1200]);
            b.Set.TrySend(1, a.PublicKey, new byte[1200]);
        }

        for (var i = 0; i < 50; i++)
        {
            await b.ReceiveAsync(cts.Token);
        }

        var tasks = a.Set.Tasks.ToList();
        tasks.Should().HaveCountGreaterThanOrEqualTo(2, "the maintenance task and the home region's task");
        await a.DisposeAsync();
        await a.DisposeAsync();
        tasks.Should().OnlyContain(task => task.IsCompleted);
        a.Set.Tasks.Should().OnlyContain(task => task.IsCompleted);
        a.Pool.IdleCount.Should().Be((int)a.Pool.CreatedCount);
        a.Set.TrySend(1, b.PublicKey, "late"u8).Should().BeFalse();
        await DerpTestClient.WaitUntilAsync(() => !server.IsConnected(a.PublicKey), cts.Token, "the server saw the close");
    }
}
