using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TsNet.Tests.ControlMode;
using TsNet.Underlay;

namespace TsNet.Tests.Hosting;

/// <summary>The hosted node: started with the host (never waiting for a login), logged, disposed when the host stops.</summary>
public sealed class TailnetHostedServiceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>Control-mode options of <paramref name="tailnet"/> (fake session, no auth key: interactive login).</summary>
    internal static void ControlNode(TailnetServerOptions options, FakeTailnet tailnet, List<FakeControlSession> sessions)
    {
        var fake = tailnet.Options(sessions);
        options.ControlUrl = fake.ControlUrl;
        options.Ephemeral = fake.Ephemeral;
        options.TimeProvider = fake.TimeProvider;
        options.TestHooks = fake.TestHooks;
    }

    [Fact]
    public async Task HostStart_StartsTheStaticNode_HostStop_DisposesIt()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var logs = new LogRecorder();
        var builder = HostingTestSupport.EmptyHost(logs);
        builder.Services.AddTailnet(options => HostingTestSupport.StaticNode(options, hub, HostingTestSupport.A));
        using var host = builder.Build();
        var node = host.Node();
        node.State.Should().Be(TailnetState.Stopped);

        await host.StartAsync(cts.Token);

        node.State.Should().Be(TailnetState.Running);
        await using var peer = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.B, cts.Token);
        await HostingTestSupport.PairAsync(node, HostingTestSupport.A, peer, HostingTestSupport.B, cts.Token);
        logs.Entries.Should().Contain(e => e.Contains("TsNet.Extensions.Hosting[1706]", StringComparison.Ordinal) && e.Contains(node.PublicKey.ToString(), StringComparison.Ordinal));
        logs.Entries.Should().Contain(e => e.Contains("TsNet.TailnetServer", StringComparison.Ordinal), "the node logs through the host's logger factory");

        await host.StopAsync(cts.Token);

        node.State.Should().Be(TailnetState.Stopped);
        await FluentActions.Awaiting(async () => await node.StartAsync(cts.Token)).Should().ThrowAsync<ObjectDisposedException>("the host disposed the node");
        host.Node().Should().BeSameAs(node, "one singleton node");
    }

    [Fact]
    public async Task HostStart_DoesNotWaitForAPendingLogin_TheLoginUrlIsLogged()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        var logs = new LogRecorder();
        var builder = HostingTestSupport.EmptyHost(logs);
        builder.Services.AddTailnet(options => ControlNode(options, tailnet, sessions));
        using var host = builder.Build();
        var node = host.Node();

        await host.StartAsync(cts.Token);
        var session = await ControlModeStateTests.StartedSessionAsync(sessions, cts.Token);
        var authUrl = new Uri("http://control.test/a/hosted");
        session.Observer.OnLoginRequired(authUrl);
        await HostingTestSupport.WaitUntilAsync(() => logs.Entries.Any(e => e.Contains("[1700]", StringComparison.Ordinal)), cts.Token);

        node.State.Should().Be(TailnetState.NeedsLogin, "the host started while the login is pending");
        logs.Entries.Should().Contain(e => e.StartsWith("Warning TsNet.Extensions.Hosting[1700]: ", StringComparison.Ordinal) && e.Contains(authUrl.AbsoluteUri, StringComparison.Ordinal));

        var self = new FakeNode(tailnet, "hosted", 1, node, session, []);
        await self.PushFullMapAsync(cts.Token);
        await node.UpAsync(cts.Token);
        await HostingTestSupport.WaitUntilAsync(() => logs.Entries.Any(e => e.Contains("[1701]", StringComparison.Ordinal)), cts.Token);
        logs.Entries.Should().Contain(e => e.Contains("[1701]: Tailnet node hosted.tail.test is running with addresses 100.64.0.1", StringComparison.Ordinal));

        await host.StopAsync(cts.Token);
        session.Disposed.Should().BeTrue("stopping the host disposes the node and its control session");
        node.State.Should().Be(TailnetState.Stopped);
    }

    [Fact]
    public async Task ARefusedLogin_IsLoggedAsAnError_TheHostRunsOn()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        var logs = new LogRecorder();
        var builder = HostingTestSupport.EmptyHost(logs);
        builder.Services.AddTailnet(options => ControlNode(options, tailnet, sessions));
        using var host = builder.Build();
        await host.StartAsync(cts.Token);
        var session = await ControlModeStateTests.StartedSessionAsync(sessions, cts.Token);

        session.Observer.OnLoginRefused("invalid key: unable to validate API key");
        await HostingTestSupport.WaitUntilAsync(() => logs.Entries.Any(e => e.Contains("[1704]", StringComparison.Ordinal)), cts.Token);

        logs.Entries.Should().Contain(e => e.StartsWith("Error TsNet.Extensions.Hosting[1704]: Tailnet node stopped: invalid key: unable to validate API key", StringComparison.Ordinal));
        host.Node().State.Should().Be(TailnetState.Stopped);
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public async Task AddTailnet_Twice_ConfiguresOneNode_StartedOnce()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var builder = HostingTestSupport.EmptyHost();
        builder.Services.AddTailnet(options => HostingTestSupport.StaticNode(options, hub, HostingTestSupport.A));
        builder.Services.AddTailnet(options => options.DnsSuffix = "second.example");
        using var host = builder.Build();

        host.Services.GetServices<IHostedService>().Should().ContainSingle();
        await host.StartAsync(cts.Token);

        host.Node().State.Should().Be(TailnetState.Running);
        host.Node().Addresses.Should().Equal(HostingTestSupport.A.BaseAddress);
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public async Task AStaticNodeFromAWireGuardConfigFile_RelativeToTheContentRoot_ReachesItsPeer()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        await using var peer = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.B, cts.Token);
        var key = WireGuardKey.Generate();
        var contentRoot = Directory.CreateTempSubdirectory("tsnet-hosting-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(contentRoot, "wg0.conf"), $"""
                [Interface]
                PrivateKey = {key}
                Address = 100.64.0.1/32

                [Peer]
                # Name = b
                PublicKey = {peer.PublicKey}
                Endpoint = 127.0.0.1:{peer.ListenPort}
                AllowedIPs = 100.64.0.2/32
                """);
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = contentRoot });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tailnet:WireGuardConfigFile"] = "wg0.conf" });
            builder.Services.AddTailnet(builder.Configuration.GetSection("Tailnet"));
            builder.Services.AddTailnet(options => options.TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub });   // layered on the section
            using var host = builder.Build();
            await host.StartAsync(cts.Token);
            await peer.AddOrUpdatePeerAsync(new TailnetPeer { PublicKey = key.PublicKey, AllowedIps = { HostingTestSupport.A } }, cts.Token);

            var node = host.Node();
            node.PublicKey.Should().Be(key.PublicKey);
            (await node.PingAsync(HostingTestSupport.B.BaseAddress, TimeSpan.FromSeconds(10), cts.Token)).Should().BePositive();
            node.GetStatus().Peers.Should().ContainSingle().Which.Name.Should().Be("b", "the peer's name comes from the file's # Name comment");
            await host.StopAsync(cts.Token);
        }
        finally
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }
}
