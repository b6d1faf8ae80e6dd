using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TsNet.Control.Protocol;

namespace TsNet.Tests.ControlMode;

/// <summary>
/// Netmaps applied to whole nodes in control mode (fake sessions, real netmap folding, in-memory underlay): names,
/// TCP, WhoIs, status, the packet filter, removed peers, changed addresses, expired peers.
/// </summary>
public sealed class ControlModeNetmapTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TwoNodes_TalkByShortAndFullName_ByteExact_AndWhoIsAnswersOnBothEnds()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token, ["tag:web"]);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        db.Server.Addresses.Should().BeEmpty("addresses come from the netmap");

        // Listening works from StartAsync on: the listener covers the addresses the netmap brings.
        await using var listener = await db.Server.ListenTcpAsync(8080, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        await web.Server.UpAsync(cts.Token);

        web.Server.State.Should().Be(TailnetState.Running);
        web.Server.DnsName.Should().Be("web.tail.test");
        web.Server.Addresses.Should().Equal(web.Ipv4, web.Ipv6);
        db.Server.Addresses.Should().Equal(db.Ipv4, db.Ipv6);
        foreach (var (target, seed) in new[] { ("db:8080", 1), ("db.tail.test:8080", 2), ("DB.tail.test.:8080", 3) })
        {
            var accept = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await web.Server.ConnectTcpAsync(target, cts.Token);
            await using var server = await accept ?? throw new InvalidOperationException("no connection");
            server.LocalEndPoint.Address.Should().Be(db.Ipv4);
            await RoundTripAsync(client, server, 64 * 1024 * TestScale.Factor, seed, cts.Token);

            var caller = await db.Server.WhoIsAsync(server.RemoteEndPoint, cts.Token);
            caller.Should().NotBeNull();
            caller!.DnsName.Should().Be("web.tail.test");
            caller.HostName.Should().Be("web");
            caller.NodeKey.Should().Be(web.Server.PublicKey);
            caller.Addresses.Should().Equal(web.Ipv4, web.Ipv6);
            caller.Tags.Should().Equal("tag:web");
            caller.UserLoginName.Should().Be("web@example.com");
            caller.UserDisplayName.Should().Be("User web");

            var callee = await web.Server.WhoIsAsync(client.RemoteEndPoint, cts.Token);
            callee!.DnsName.Should().Be("db.tail.test");
            callee.HostName.Should().Be("db");
            callee.NodeKey.Should().Be(db.Server.PublicKey);
            callee.Tags.Should().BeEmpty();
            callee.UserLoginName.Should().Be("db@example.com");
        }

        var unknown = async () => await web.Server.ConnectTcpAsync("nope:8080", cts.Token);
        (await unknown.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("peer names: db; each also answers to <name>.tail.test");
    }

    [Fact]
    public async Task Status_ShowsSelfAndPeers_AndRoundTripsThroughJson()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        web.Session.Observer.OnControlConnectionChanged(true, null);
        await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(10), cts.Token);

        var status = web.Server.GetStatus();

        status.DnsName.Should().Be("web.tail.test");
        status.Addresses.Should().Equal(web.Ipv4, web.Ipv6);
        status.Endpoints.Should().Equal(new IPEndPoint(IPAddress.Loopback, web.Server.ListenPort));
        web.Session.Endpoints.Should().Equal(status.Endpoints, "the endpoints went to the control session as a lite update");
        status.ControlConnected.Should().BeTrue();
        status.HomeDerpRegion.Should().BeNull();
        var peer = status.Peers.Single();
        peer.PublicKey.Should().Be(db.Server.PublicKey);
        peer.Name.Should().Be("db");
        peer.DnsName.Should().Be("db.tail.test");
        peer.Addresses.Should().Equal(db.Ipv4, db.Ipv6);
        peer.Online.Should().BeTrue();
        peer.Path.Should().Be("direct 127.0.0.1:" + db.Server.ListenPort);
        peer.TxBytes.Should().BeGreaterThan(0);

        var json = JsonSerializer.Serialize(status);
        var back = JsonSerializer.Deserialize<TailnetStatus>(json)!;

        using (var document = JsonDocument.Parse(json))
        {
            document.RootElement.GetProperty("Endpoints")[0].GetString().Should().Be("127.0.0.1:" + web.Server.ListenPort);
            document.RootElement.GetProperty("Peers")[0].GetProperty("Addresses")[1].GetString().Should().Be(db.Ipv6.ToString());
        }

        back.DnsName.Should().Be(status.DnsName);
        back.Endpoints.Should().Equal(status.Endpoints);
        back.ControlConnected.Should().BeTrue();
        back.HomeDerpRegion.Should().BeNull();
        back.Peers.Single().DnsName.Should().Be(peer.DnsName);
        back.Peers.Single().Addresses.Should().Equal(peer.Addresses);
        back.Peers.Single().Online.Should().Be(peer.Online);
        back.Peers.Single().Path.Should().Be(peer.Path);

        web.Session.Observer.OnControlConnectionChanged(false, new IOException("stream ended"));
        web.Server.GetStatus().ControlConnected.Should().BeFalse();
    }

    [Fact]
    public async Task UnderlayRebind_SendsTheNewEndpointsToTheSession()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var before = web.Server.ListenPort;
        web.Session.Endpoints.Should().Equal(new IPEndPoint(IPAddress.Loopback, before));

        var moved = await web.Server.RebindUnderlayAsync(0, cts.Token);

        moved.Should().NotBe(before);
        web.Session.Endpoints.Should().Equal(new IPEndPoint(IPAddress.Loopback, moved));
        web.Server.GetStatus().Endpoints.Should().Equal(web.Session.Endpoints);
    }

    [Fact]
    public async Task PacketFilter_AllowedPortWorks_OtherPortGetsNothingAndCounts_ChangeAppliesToNewFlows()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet
        {
            Filter = """[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"*","Ports":{"First":7001,"Last":7001}}]}]""",
        };
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        await using var allowed = await db.Server.ListenTcpAsync(7001, cts.Token);
        await using var denied = await db.Server.ListenTcpAsync(7002, cts.Token);

        await ConnectAndRoundTripAsync(web, allowed, "db:7001", 1, cts.Token);

        var deniedAccept = denied.AcceptAsync(cts.Token).AsTask();
        using (var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            var dial = web.Server.ConnectTcpAsync("db:7002", giveUp.Token).AsTask();
            await WaitUntilAsync(() => Denied(db) > 0, cts.Token);
            dial.IsCompleted.Should().BeFalse("the SYN was dropped: no answer, not even a reset");
            await giveUp.CancelAsync();
            await FluentActions.Awaiting(() => dial).Should().ThrowAsync<OperationCanceledException>();
        }

        deniedAccept.IsCompleted.Should().BeFalse("nothing reached the listener on the denied port");

        tailnet.Filter = """[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"*","Ports":{"First":7001,"Last":7002}}]}]""";
        await tailnet.SyncAsync(cts.Token);

        await using var client = await web.Server.ConnectTcpAsync("db:7002", cts.Token);
        await using var server = await deniedAccept ?? throw new InvalidOperationException("no connection");
        await RoundTripAsync(client, server, 4096, 2, cts.Token);
    }

    [Fact]
    public async Task NoFilterYet_DeniesInbound_AndAnEmptyRuleListDeniesAll()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet { Filter = "[]" };
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        await tailnet.SyncAsync(cts.Token);

        var ping = async () => await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(2), cts.Token);

        await ping.Should().ThrowAsync<TimeoutException>("db's filter denies every inbound flow");

        // Under load the echo may still sit in the handshake's staging queue when the ping gives up: it arrives (and
        // is denied) once the session is up.
        await WaitUntilAsync(() => Denied(db) > 0, cts.Token);
    }

    [Fact]
    public async Task RemovedPeer_IsGoneFromRegistryDataplaneAndStatus_AndDialsFailClearly()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(10), cts.Token);

        tailnet.Remove(db);
        await using (db.Server)
        {
            await web.PushFullMapAsync(cts.Token);

            web.Server.GetStatus().Peers.Should().BeEmpty();
            (await web.Server.InspectAsync(core => core.Peers.Count(), cts.Token)).Should().Be(0, "the dataplane dropped the peer");
            var byAddress = async () => await web.Server.ConnectTcpAsync(new IPEndPoint(db.Ipv4, 80), cts.Token);
            (await byAddress.Should().ThrowAsync<SocketException>()).Which.Message.Should().Contain("no peer routes " + db.Ipv4);
            var byName = async () => await web.Server.ConnectTcpAsync("db:80", cts.Token);
            (await byName.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("'db' is neither an IP address nor the name of a peer")
                .And.Contain("no peer has a name");
            (await web.Server.WhoIsAsync(new IPEndPoint(db.Ipv4, 80), cts.Token)).Should().BeNull();
        }
    }

    [Fact]
    public async Task ChangedAddresses_ResetOldConnections_AndNewDialsWork()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        await using var listener = await db.Server.ListenTcpAsync(7100, cts.Token);
        var accept = listener.AcceptAsync(cts.Token).AsTask();
        await using var oldClient = await web.Server.ConnectTcpAsync("db:7100", cts.Token);
        await using var oldServer = await accept ?? throw new InvalidOperationException("no connection");
        await RoundTripAsync(oldClient, oldServer, 1000, 1, cts.Token);

        db.AddressByte = 12;
        await db.PushFullMapAsync(cts.Token);

        db.Server.Addresses.Should().Equal(IPAddress.Parse("100.64.0.12"), IPAddress.Parse("fd7a:115c:a1e0::c"));
        db.Server.GetStatus().Addresses.Should().Equal(db.Server.Addresses);
        var buffer = new byte[16];
        var serverRead = async () => await oldServer.ReadAsync(buffer, cts.Token);
        (await serverRead.Should().ThrowAsync<IOException>("the connection's address went away")).WithInnerException<SocketException>();
        var clientRead = async () => await oldClient.ReadAsync(buffer, cts.Token);
        (await clientRead.Should().ThrowAsync<IOException>("db sent a reset")).WithInnerException<SocketException>()
            .Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);

        await web.PushFullMapAsync(cts.Token);
        await ConnectAndRoundTripAsync(web, listener, "db:7100", 2, cts.Token, expectedLocal: IPAddress.Parse("100.64.0.12"));
    }

    [Fact]
    public async Task PeerWithAnExpiredKey_IsNotDialed_TheErrorNamesIt()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        var expiredAt = DateTimeOffset.UtcNow.AddMinutes(-5);
        db.KeyExpiry = new DateTimeOffset(expiredAt.Year, expiredAt.Month, expiredAt.Day, expiredAt.Hour, expiredAt.Minute, expiredAt.Second, TimeSpan.Zero);
        await web.PushFullMapAsync(cts.Token);

        var dial = async () => await web.Server.ConnectTcpAsync("db:80", cts.Token);

        var error = (await dial.Should().ThrowAsync<SocketException>()).Which;
        error.SocketErrorCode.Should().Be(SocketError.HostUnreachable);
        error.Message.Should().Be($"node key of db.tail.test expired at {db.KeyExpiry:yyyy-MM-dd HH:mm:ss}Z: the peer must log in again before it can be reached.");

        // Ping and UDP refuse it the same way, at once.
        var ping = async () => await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(10), cts.Token);
        (await ping.Should().ThrowAsync<SocketException>()).Which.Message.Should().Be(error.Message);
        await using (var udp = await web.Server.BindUdpAsync(0, cts.Token))
        {
            var send = async () => await udp.SendToAsync(new byte[] { 1 }, new System.Net.IPEndPoint(db.Ipv4, 9), cts.Token);
            (await send.Should().ThrowAsync<SocketException>()).Which.Message.Should().Be(error.Message);
        }

        db.KeyExpiry = DateTimeOffset.UtcNow.AddDays(1);
        await tailnet.SyncAsync(cts.Token);
        await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(10), cts.Token);
    }

    [Fact]
    public async Task Deltas_PatchAndRemovePeers_OthersKeepTalking()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        var cache = await tailnet.AddNodeAsync("cache", 3, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(10), cts.Token);

        await web.PushAsync("""{"PeersChangedPatch":[{"NodeID":2,"Online":false}]}""", cts.Token);

        web.Server.GetStatus().Peers.Single(p => p.Name == "db").Online.Should().BeFalse();

        await web.PushAsync("""{"PeersRemoved":[3]}""", cts.Token);

        web.Server.GetStatus().Peers.Select(p => p.Name).Should().Equal("db");
        (await web.Server.InspectAsync(core => core.Peers.Count(), cts.Token)).Should().Be(1);
        var toCache = async () => await web.Server.ConnectTcpAsync(new IPEndPoint(cache.Ipv4, 80), cts.Token);
        await toCache.Should().ThrowAsync<SocketException>();
        await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(10), cts.Token);
    }

    [Fact]
    public async Task ALargeNetmap_IsAppliedInShortDataplaneTurns_AndAnEmptyOneRemovesEveryPeer()
    {
        const int Peers = 300; // each new peer costs the dataplane an X25519: many 2 ms turns
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var peers = string.Join(",", Enumerable.Range(0, Peers).Select(i =>
            $$"""
            {"ID":{{1000 + i}},"Name":"n{{i}}.tail.test.","User":1,"Key":"{{ControlKeyText.Format(ControlKeyText.NodePublicPrefix, WireGuardKey.Generate().PublicKey)}}",
             "Addresses":["100.65.{{i / 250}}.{{1 + (i % 250)}}/32"],"Endpoints":["192.0.2.1:{{10000 + i}}"],"Online":true}
            """));
        var self = web.NodeJson();

        await web.PushAsync($$"""{"Node":{{self}},"Domain":"tail.test","Peers":[{{peers}}]}""", cts.Token);

        web.Server.GetStatus().Peers.Should().HaveCount(Peers);
        (await web.Server.InspectAsync(core => core.Peers.Count(), cts.Token)).Should().Be(Peers);
        web.Server.ResolveDialTarget("n299.tail.test:80").Should().Be(new IPEndPoint(IPAddress.Parse("100.65.1.50"), 80));

        await web.PushAsync($$"""{"Node":{{self}},"Peers":[]}""", cts.Token);

        web.Server.GetStatus().Peers.Should().BeEmpty();
        (await web.Server.InspectAsync(core => core.Peers.Count(), cts.Token)).Should().Be(0);
    }

    internal static long Denied(FakeNode node) => node.Server.GetStatus().Drops.GetValueOrDefault("filter.Denied");

    internal static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    private static async Task ConnectAndRoundTripAsync(
        FakeNode from, TailnetListener listener, string target, int seed, CancellationToken cancellationToken, IPAddress? expectedLocal = null)
    {
        var accept = listener.AcceptAsync(cancellationToken).AsTask();
        await using var client = await from.Server.ConnectTcpAsync(target, cancellationToken);
        await using var server = await accept ?? throw new InvalidOperationException("no connection");
        if (expectedLocal is not null)
        {
            server.LocalEndPoint.Address.Should().Be(expectedLocal);
        }

        await RoundTripAsync(client, server, 4096, seed, cancellationToken);
    }

    internal static async Task RoundTripAsync(Stream client, Stream server, int length, int seed, CancellationToken cancellationToken)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        var write = client.WriteAsync(data, cancellationToken).AsTask();
        var received = new byte[length];
        await server.ReadExactlyAsync(received, cancellationToken);
        await write;
        received.Should().Equal(data);

        await server.WriteAsync(data.AsMemory(0, Math.Min(length, 1000)), cancellationToken);
        var echoed = new byte[Math.Min(length, 1000)];
        await client.ReadExactlyAsync(echoed, cancellationToken);
        echoed.Should().Equal(data.AsMemory(0, echoed.Length).ToArray());
    }
}
