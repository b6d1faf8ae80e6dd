using System.Diagnostics;
using System.Net;

namespace TsNet.Tests.Facade;

/// <summary>The facade over the peer registry: awaitable peer changes, WhoIs, and a status that never waits unbounded.</summary>
public sealed class PeerRegistryFacadeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AddOrUpdatePeerAsync_CompletesOnceTheDataplaneHasThePeer_WithItsHostNameResolved()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await StartAsync("100.64.0.1", cts.Token);
        var key = WireGuardKey.Generate().PublicKey;

        await node.AddOrUpdatePeerAsync(
            new TailnetPeer { PublicKey = key, Endpoint = "localhost:51999", AllowedIps = { IPNetwork.Parse("100.64.0.7/32") } }, cts.Token);

        var endpoint = await node.InspectAsync(core =>
            core.TryGetPeer(key.Bytes, out var peer) && peer is not null ? peer.Endpoint.ToIPEndPoint() : null, cts.Token);
        endpoint.Should().NotBeNull("the peer is in the WireGuard core when the call completes");
        endpoint!.Port.Should().Be(51999);
        IPAddress.IsLoopback(endpoint.Address).Should().BeTrue("localhost was resolved before the change was applied");
    }

    [Fact]
    public async Task RemovePeerAsync_CompletesOnceTheDataplaneDroppedThePeer()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await StartAsync("100.64.0.1", cts.Token);
        var key = WireGuardKey.Generate().PublicKey;
        await node.AddOrUpdatePeerAsync(new TailnetPeer { PublicKey = key, AllowedIps = { IPNetwork.Parse("100.64.0.7/32") } }, cts.Token);

        (await node.RemovePeerAsync(key, cts.Token)).Should().BeTrue();

        (await node.InspectAsync(core => core.PeerCount, cts.Token)).Should().Be(0);
        (await node.RemovePeerAsync(key, cts.Token)).Should().BeFalse();
    }

    [Fact]
    public async Task RemoveThenAddAgain_StartsThePeerAfresh_WhileAnUnchangedUpdateKeepsTheSession()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var a = await StartAsync("100.64.0.1", cts.Token);
        await using var b = await StartAsync("100.64.0.2", cts.Token);
        await a.AddOrUpdatePeerAsync(PeerOf(b), cts.Token);
        await b.AddOrUpdatePeerAsync(PeerOf(a), cts.Token);
        await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(10), cts.Token);
        (await a.InspectAsync(core => core.Peers.Single().SessionState, cts.Token)).Should().Be("established");

        await a.AddOrUpdatePeerAsync(PeerOf(b, "renamed"), cts.Token);
        (await a.InspectAsync(core => core.Peers.Single().SessionState, cts.Token)).Should().Be("established", "a name is not WireGuard-relevant");

        a.RemovePeer(b.PublicKey).Should().BeTrue();
        await a.AddOrUpdatePeerAsync(PeerOf(b), cts.Token);

        (await a.InspectAsync(core => (core.Peers.Single().SessionState, core.Peers.Single().HandshakesCompleted), cts.Token))
            .Should().Be(("none", 0L), "the removal wiped the session before the peer came back");
    }

    [Fact]
    public async Task AddOrUpdatePeer_UpdatesTheRegistryBeforeItReturns()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await StartAsync("100.64.0.1", cts.Token);
        var key = WireGuardKey.Generate().PublicKey;

        node.AddOrUpdatePeer(new TailnetPeer { PublicKey = key, Name = "db", AllowedIps = { IPNetwork.Parse("100.64.0.7/32") } });

        node.ResolveDialTarget("db:5432").Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.7"), 5432));
        node.HasOverlayRoute(IPAddress.Parse("100.64.0.7")).Should().BeTrue();
        node.GetStatus().Peers.Should().ContainSingle(p => p.PublicKey == key && p.Name == "db");
        node.RemovePeer(key).Should().BeTrue();
        node.HasOverlayRoute(IPAddress.Parse("100.64.0.7")).Should().BeFalse();
        var dial = () => node.ResolveDialTarget("db:5432");
        dial.Should().Throw<ArgumentException>().WithMessage("*no peer has a name*");
    }

    [Fact]
    public async Task UnknownName_ListsAFewNamesOnly()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await StartAsync("100.64.0.1", cts.Token);
        for (var i = 0; i < 12; i++)
        {
            node.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = "peer" + i, AllowedIps = { IPNetwork.Parse($"100.64.1.{i}/32") } });
        }

        var dial = () => node.ResolveDialTarget("nope:80");

        var message = dial.Should().Throw<ArgumentException>().Which.Message;
        message.Should().Contain("peer0, peer1").And.Contain("peer7, ...").And.NotContain("peer8");
    }

    [Fact]
    public async Task WhoIsAsync_NamesThePeerBehindAConnection_AndNullForUnknownAddresses()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var a = await StartAsync("100.64.0.1", cts.Token, dnsSuffix: "tailnet.example");
        await using var b = await StartAsync("100.64.0.2", cts.Token);
        var aFromB = PeerOf(a, "alpha");
        aFromB.AllowedIps.Add(IPNetwork.Parse("10.9.0.0/24"));
        await a.AddOrUpdatePeerAsync(PeerOf(b, "bravo"), cts.Token);
        await b.AddOrUpdatePeerAsync(aFromB, cts.Token);
        await using var listener = await a.ListenTcpAsync(7200, cts.Token);
        var accept = listener.AcceptAsync(cts.Token).AsTask();
        await using var client = await b.ConnectTcpAsync("100.64.0.1:7200", cts.Token);
        await using var server = await accept ?? throw new InvalidOperationException("no connection");

        var bravo = await a.WhoIsAsync(server.RemoteEndPoint, cts.Token);
        bravo.Should().NotBeNull();
        bravo!.NodeKey.Should().Be(b.PublicKey);
        bravo.HostName.Should().Be("bravo");
        bravo.DnsName.Should().Be("bravo.tailnet.example");
        bravo.Addresses.Should().Equal(IPAddress.Parse("100.64.0.2"));
        bravo.Tags.Should().BeEmpty();

        var alpha = await b.WhoIsAsync(client.RemoteEndPoint, cts.Token);
        alpha!.NodeKey.Should().Be(a.PublicKey);
        alpha.DnsName.Should().BeNull("b has no DNS suffix");
        alpha.Addresses.Should().Equal([IPAddress.Parse("100.64.0.1")], "a subnet route is not an address of the peer");
        (await b.WhoIsAsync(new IPEndPoint(IPAddress.Parse("10.9.0.5"), 1), cts.Token))!.NodeKey.Should().Be(a.PublicKey, "routes through a peer are the peer's");

        (await a.WhoIsAsync(new IPEndPoint(IPAddress.Parse("100.64.0.99"), 1), cts.Token)).Should().BeNull();
        (await a.WhoIsAsync(new IPEndPoint(IPAddress.Parse("100.64.0.1"), 1), cts.Token)).Should().BeNull("the node itself is no peer");
    }

    [Fact]
    public async Task GetStatus_ReturnsPromptly_WhileTheDataplaneLoopIsBlocked()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = await StartAsync("100.64.0.1", cts.Token);
        var key = WireGuardKey.Generate().PublicKey;
        await node.AddOrUpdatePeerAsync(new TailnetPeer { PublicKey = key, Name = "db", AllowedIps = { IPNetwork.Parse("100.64.0.7/32") } }, cts.Token);
        node.GetStatus().Peers.Should().ContainSingle();

        using var release = new ManualResetEventSlim();
        using var entered = new SemaphoreSlim(0);
        var blocker = node.InspectAsync(core =>
        {
            entered.Release();
            release.Wait(Bound);
            return core.PeerCount;
        }, cts.Token);
        try
        {
            (await entered.WaitAsync(Bound, cts.Token)).Should().BeTrue("the loop runs the blocking command");
            var added = WireGuardKey.Generate().PublicKey;
            node.AddOrUpdatePeer(new TailnetPeer { PublicKey = added, AllowedIps = { IPNetwork.Parse("100.64.0.8/32") } });

            var stopwatch = Stopwatch.StartNew();
            var status = node.GetStatus();
            stopwatch.Stop();

            stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the wait for the loop is bounded (1 s)");
            status.Peers.Select(p => p.PublicKey).Should().BeEquivalentTo([key, added], "the peer list comes from the registry");
            status.Peers.Single(p => p.PublicKey == added).SessionState.Should().Be("none");
            status.PublicKey.Should().Be(node.PublicKey);
        }
        finally
        {
            release.Set();
        }

        (await blocker).Should().Be(1);
        node.GetStatus().Peers.Should().HaveCount(2);
    }

    internal static async Task<TailnetServer> StartAsync(string address, CancellationToken cancellationToken, string? dnsSuffix = null)
    {
        var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse(address + "/32") },
            DnsSuffix = dnsSuffix,
        });
        await node.StartAsync(cancellationToken);
        return node;
    }

    internal static TailnetPeer PeerOf(TailnetServer node, string? name = null) => new()
    {
        PublicKey = node.PublicKey,
        Endpoint = "127.0.0.1:" + node.ListenPort,
        AllowedIps = { IPNetwork.Parse(node.Addresses[0] + "/32") },
        Name = name,
    };
}
