using System.Net;
using TsNet.Control.Client;
using TsNet.Control.Protocol;
using TsNet.Control.Session;
using TsNet.Control.State;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;
using Observer = TsNet.TestSupport.RecordingControlObserver;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// The real <see cref="ControlClient"/> against Tailscale's <c>testcontrol-server</c> (v1.36.2): auth key, refused key,
/// interactive login, server restart, logout and an ephemeral node's dispose. No root needed.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class ControlClientInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestLog _log = new(output);

    [TailscaleFact]
    public async Task AuthKey_RegistersAndGetsNetmapWithOwnAddresses()
    {
        await using var env = await Env.StartAsync(_log);
        var observer = new Observer();
        await using var client = env.Client("cc-authkey", authKey: "any-key");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        client.Start(observer);

        var netmap = await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
        _log.Write($"Start to first netmap (/key, ts2021, register, map): {clock.Elapsed.TotalMilliseconds:F1} ms");
        var update = netmap.Update;
        update.IsFull.Should().BeTrue();
        var node = await env.NodeAsync(client.State);
        node.Should().NotBeNull("the server has the node after register");
        update.Netmap.SelfAddresses.Select(a => a.ToString()).Should().BeEquivalentTo(node!.Addresses.Select(a => a.Split('/')[0]));
        update.Netmap.SelfAddresses.Should().Contain(a => a.ToString().StartsWith("100.64.0.", StringComparison.Ordinal));
        update.Netmap.Self!.Key.Should().Be(ControlRequests.NodeKeyText(client.State.NodeKey));
        observer.Seen.OfType<Observer.ConnectionChanged>().Should().ContainSingle(c => c.Connected);
        await Poll.UntilAsync(env.Server.Admin.GetNodesAsync, nodes => nodes.Any(n => n.NodeKey == node.NodeKey && n.Online), Bound, "online");
        client.State.LoggedIn.Should().BeTrue();
        env.Complete();
    }

    [TailscaleFact]
    public async Task EndpointUpdate_ReachesTheServer_ThroughALiteUpdate()
    {
        await using var env = await Env.StartAsync(_log);
        var observer = new Observer();
        await using var client = env.Client("cc-endpoints", authKey: "any-key");
        client.Start(observer);
        await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
        var nodeKey = ControlRequests.NodeKeyText(client.State.NodeKey);

        client.UpdateEndpoints([IPEndPoint.Parse("127.0.0.1:41641"), IPEndPoint.Parse("[::1]:41641")]);

        var nodes = await Poll.UntilAsync(
            env.Server.Admin.GetNodesAsync,
            list => list.Any(n => n.NodeKey == nodeKey && n.Endpoints is { Count: 2 }),
            Bound,
            "the endpoints at the server");
        nodes.Single(n => n.NodeKey == nodeKey).Endpoints.Should().Equal("127.0.0.1:41641", "[::1]:41641");
        observer.Seen.OfType<Observer.ConnectionChanged>().Should().ContainSingle("the lite update does not disturb the stream");
        env.Complete();
    }

    [TailscaleFact]
    public async Task StartToFirstNetmap_Latency()
    {
        const int Rounds = 10;
        await using var env = await Env.StartAsync(_log);
        var times = new List<double>();

        // Round 0 warms up (JIT); each round is a new node: /key, TCP, ts2021 handshake, register, map, first frame.
        for (var round = 0; round <= Rounds; round++)
        {
            var observer = new Observer();
            await using var client = env.Client($"cc-latency-{round}", authKey: "any-key");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            client.Start(observer);
            var netmap = await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
            var elapsed = clock.Elapsed.TotalMilliseconds;
            netmap.Update.Netmap.SelfAddresses.Should().NotBeEmpty();
            if (round > 0)
            {
                times.Add(elapsed);
            }
        }

        times.Sort();
        _log.Write($"Start to first netmap over {Rounds} new nodes: median {times[Rounds / 2]:F1} ms, min {times[0]:F1} ms, max {times[^1]:F1} ms");
        env.Complete();
    }

    [TailscaleFact]
    public async Task WrongAuthKey_IsRefusedWithTheServersMessage()
    {
        await using var env = await Env.StartAsync(_log, new TestControlServerOptions { AuthKeys = ["the-right-key"] });
        var observer = new Observer();
        await using var client = env.Client("cc-refused", authKey: "a-wrong-key");

        client.Start(observer);

        var refused = await observer.WaitForAsync<Observer.LoginRefused>(Bound);
        refused.Message.Should().Be("invalid key: auth key not accepted by testcontrol", "the server's own text (its log line \"register: refusing node key\")");
        (await env.Server.Admin.GetNodesAsync()).Should().BeEmpty("a refused key creates no node");
        await client.RunTask!.WaitAsync(Bound);
        env.Complete();
    }

    [TailscaleFact]
    public async Task RequireAuth_ReportsTheUrl_AndCompletingItGivesANetmap()
    {
        await using var env = await Env.StartAsync(_log, new TestControlServerOptions { RequireAuth = true });
        var observer = new Observer();
        await using var client = env.Client("cc-interactive", authKey: null);

        client.Start(observer);

        var login = await observer.WaitForAsync<Observer.LoginRequired>(Bound);
        login.AuthUrl.ToString().Should().StartWith(env.Server.Url);
        await env.Server.Admin.CompleteAuthAsync(login.AuthUrl.ToString());
        var netmap = await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
        netmap.Update.Netmap.SelfAddresses.Should().NotBeEmpty();
        client.State.LoggedIn.Should().BeTrue();
        env.Complete();
    }

    [TailscaleFact]
    public async Task ServerRestart_ReRegistersAndGetsANetmapAgain()
    {
        await using var env = await Env.StartAsync(_log);
        var observer = new Observer();
        await using var client = env.Client("cc-restart", authKey: "any-key");
        client.Start(observer);
        await observer.WaitForAsync<Observer.NetmapReceived>(Bound);

        await env.Server.RestartAsync();

        var down = await observer.WaitForAsync<Observer.ConnectionChanged>(Bound, c => !c.Connected);
        down.Error.Should().NotBeNull();
        var again = await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
        again.Update.Netmap.SelfAddresses.Should().NotBeEmpty();
        (await env.NodeAsync(client.State)).Should().NotBeNull("the new server knows the node after it registered again");
        env.Complete();
    }

    [TailscaleFact]
    public async Task Logout_InvalidatesTheNodeKey_AndReportsANewOne()
    {
        await using var env = await Env.StartAsync(_log);
        var observer = new Observer();
        await using var client = env.Client("cc-logout", authKey: "any-key");
        client.Start(observer);
        await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
        var before = client.State;

        using var cts = new CancellationTokenSource(Bound);
        await client.LogoutAsync(cts.Token);

        var changed = await observer.WaitForAsync<Observer.NodeKeyChanged>(Bound);
        changed.NodeKey.Should().NotBe(before.NodeKey);
        client.State.LoggedIn.Should().BeFalse();
        client.RunTask.Should().BeNull("the session stops polling after logout");
        var oldKey = ControlRequests.NodeKeyText(before.NodeKey);
        var nodes = await Poll.UntilAsync(
            env.Server.Admin.GetNodesAsync, list => list.All(n => n.NodeKey != oldKey || n.Expired), Bound, "logged out");
        _log.Write("after logout: " + string.Join(", ", nodes));
        env.Complete();
    }

    [TailscaleFact]
    public async Task EphemeralDispose_RemovesTheNodeAtOnce()
    {
        // A long grace: only the logout on dispose can remove the node within the bound.
        await using var env = await Env.StartAsync(_log, new TestControlServerOptions { EphemeralGrace = TimeSpan.FromMinutes(10) });
        var observer = new Observer();
        var client = env.Client("cc-ephemeral", authKey: "any-key", ephemeral: true);
        client.Start(observer);
        await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
        var nodeKey = ControlRequests.NodeKeyText(client.State.NodeKey);
        (await env.Server.Admin.GetNodesAsync()).Should().Contain(n => n.NodeKey == nodeKey && n.Ephemeral);

        var disposing = System.Diagnostics.Stopwatch.StartNew();
        await client.DisposeAsync();
        disposing.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));

        await Poll.UntilAsync(env.Server.Admin.GetNodesAsync, nodes => nodes.All(n => n.NodeKey != nodeKey), TimeSpan.FromSeconds(10), "the ephemeral node gone");
        env.Complete();
    }

    [TailscaleFact]
    public async Task TwoNodes_SeeEachOther_AndADeletedPeerLeavesTheNetmap_WithDeltas()
    {
        await using var env = await Env.StartAsync(_log, new TestControlServerOptions { Deltas = true });
        var observerA = new Observer();
        var observerB = new Observer();
        await using var a = env.Client("cc-a", authKey: "any-key");
        await using var b = env.Client("cc-b", authKey: "any-key");
        a.Start(observerA);
        await observerA.WaitForAsync<Observer.NetmapReceived>(Bound);
        b.Start(observerB);
        var keyB = b.State.NodeKey.PublicKey;

        var seesB = await observerA.WaitForAsync<Observer.NetmapReceived>(Bound, m => m.Update.Netmap.Peers.Any(p => p.Key == ControlRequests.NodeKeyText(b.State.NodeKey)));
        _log.Write($"A sees B: full={seesB.Update.IsFull} upserts={seesB.Update.Upserts.Count} all={seesB.Update.AllPeers.Count}");
        await observerB.WaitForAsync<Observer.NetmapReceived>(Bound, m => m.Update.AllPeers.Any(p => p.NodeKey == a.State.NodeKey.PublicKey));

        await env.Server.Admin.DeleteNodeAsync(ControlRequests.NodeKeyText(b.State.NodeKey));

        var gone = await observerA.WaitForAsync<Observer.NetmapReceived>(Bound, m => m.Update.Netmap.Peers.Count == 0);
        _log.Write($"A after delete: full={gone.Update.IsFull} removals={gone.Update.Removals.Count}");
        (gone.Update.IsFull ? gone.Update.AllPeers.Select(p => p.NodeKey) : []).Should().NotContain(keyB);
        if (!gone.Update.IsFull)
        {
            gone.Update.Removals.Should().Contain(keyB);
        }

        // A is unaffected: its own node and addresses are still there.
        gone.Update.Netmap.SelfAddresses.Should().NotBeEmpty();
        env.Complete();
    }

    [TailscaleFact]
    public async Task RestartFromTheStateDirectory_ComesBackAsTheSameNode_WithoutAnAuthKey()
    {
        await using var env = await Env.StartAsync(_log);
        var stateDirectory = env.Directory("state");
        Directory.CreateDirectory(stateDirectory);
        var state = ControlStateStore.LoadOrCreate(stateDirectory, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        IReadOnlyList<IPAddress> firstAddresses;
        string? firstName;
        await using (var first = env.Client("cc-restarted", authKey: "any-key", state: state, stateDirectory: stateDirectory))
        {
            var observer = new Observer();
            first.Start(observer);
            var firstMap = (await observer.WaitForAsync<Observer.NetmapReceived>(Bound)).Update.Netmap;
            firstAddresses = firstMap.SelfAddresses;
            firstName = firstMap.Self!.Name;
        }

        ControlStateStore.TryLoad(stateDirectory, out var saved).Should().BeTrue();
        saved.LoggedIn.Should().BeTrue();
        var againObserver = new Observer();
        await using var again = env.Client("cc-restarted", authKey: null, state: saved, stateDirectory: stateDirectory);

        again.Start(againObserver);

        var netmap = await againObserver.WaitForAsync<Observer.NetmapReceived>(Bound);
        netmap.Update.Netmap.SelfAddresses.Should().Equal(firstAddresses);
        netmap.Update.Netmap.Self!.Name.Should().Be(firstName).And.StartWith("cc-restarted.");
        (await env.Server.Admin.GetNodesAsync()).Should().ContainSingle("the same node, not a second one");
        againObserver.Seen.OfType<Observer.LoginRequired>().Should().BeEmpty();
        env.Complete();
    }

    [TailscaleFact]
    public async Task ExpiredByTheServer_RenewsTheNodeKey_AndGetsANetmapForTheNewKey()
    {
        await using var env = await Env.StartAsync(_log);
        var observer = new Observer();
        await using var client = env.Client("cc-expiry", authKey: "any-key");
        client.Start(observer);
        await observer.WaitForAsync<Observer.NetmapReceived>(Bound);
        var oldKey = client.State.NodeKey;

        await env.Server.Admin.ExpireNodeAsync(ControlRequests.NodeKeyText(oldKey));

        var expired = await observer.WaitForAsync<Observer.NetmapReceived>(Bound, m => m.Update.Netmap.Self?.KeyExpiry is { } at && at < DateTimeOffset.UtcNow && at != DateTimeOffset.MinValue);
        _log.Write($"expired self: KeyExpiry={expired.Update.Netmap.Self!.KeyExpiry:o} Expired={expired.Update.Netmap.Self.Expired}");
        var changed = await observer.WaitForAsync<Observer.NodeKeyChanged>(Bound);
        changed.NodeKey.Should().NotBe(oldKey);
        var renewed = await observer.WaitForAsync<Observer.NetmapReceived>(Bound, m => m.Update.Netmap.Self?.Key == ControlRequests.NodeKeyText(changed.NodeKey));
        renewed.Update.Netmap.SelfAddresses.Should().NotBeEmpty();
        env.Complete();
    }

    /// <summary>A control server in its own work directory and the clients' common context.</summary>
    private sealed class Env : IAsyncDisposable
    {
        private readonly TailscaleWorkDir _workDir;

        private Env(TailscaleWorkDir workDir, TestControlServer server, TestLog log)
        {
            _workDir = workDir;
            Server = server;
            Loggers = new TestLoggerFactory(log);
        }

        public TestControlServer Server { get; }

        public TestLoggerFactory Loggers { get; }

        public static async Task<Env> StartAsync(TestLog log, TestControlServerOptions? options = null)
        {
            TailscaleBinaries.EnsureAvailable();
            using var bound = new CancellationTokenSource(TestControlServer.StartTimeout);
            var workDir = await TailscaleWorkDir.CreateAsync(log, bound.Token);
            try
            {
                return new Env(workDir, await TestControlServer.StartAsync(workDir, options, bound.Token), log);
            }
            catch
            {
                await workDir.DisposeAsync();
                throw;
            }
        }

        public ControlClient Client(string hostname, string? authKey, bool ephemeral = false, ControlState? state = null, string? stateDirectory = null) => new(new ControlSessionContext
        {
            ControlUrl = new Uri(Server.Url),
            State = state ?? new ControlState { MachineKey = WireGuardKey.Generate(), NodeKey = WireGuardKey.Generate() },
            StateDirectory = stateDirectory,
            AuthKey = authKey,
            Hostname = hostname,
            Ephemeral = ephemeral,
            CapabilityVersion = 115,
            DiscoPublicKey = DiscoKey.Generate(),
            TimeProvider = TimeProvider.System,
            LoggerFactory = Loggers,
        });

        public async Task<ControlNode?> NodeAsync(ControlState state)
        {
            var key = ControlRequests.NodeKeyText(state.NodeKey);
            return (await Server.Admin.GetNodesAsync()).FirstOrDefault(n => n.NodeKey == key);
        }

        public string Directory(string name) => _workDir.File(name);

        public void Complete() => _workDir.Complete();

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await _workDir.DisposeAsync();
        }
    }
}
