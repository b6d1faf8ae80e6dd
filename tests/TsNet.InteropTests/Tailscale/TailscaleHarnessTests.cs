using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Proves the Tailscale harness against the real v1.36.2 binaries: the control server, its admin API, DERP and
/// userspace tailscaled nodes joining, pinging and leaving. No TsNet code runs here. Serialized with the other
/// interop tests; every test is bounded to 60 s.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class TailscaleHarnessTests
{
    private const string GoodKey = "tskey-harness-test";

    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(60);

    // Peers see each other once both map streams are up; generous for a loaded machine.
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);

    private readonly TestLog _log;

    public TailscaleHarnessTests(ITestOutputHelper output) => _log = new TestLog(output);

    [TailscaleFact]
    public async Task ControlServer_AnswersKey_AndRestartOnSamePortHasNewKey()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await TestControlServer.StartAsync(workDir, cancellationToken: bound.Token);

        control.Url.Should().Be($"http://127.0.0.1:{control.Port}");
        var keys = await control.Admin.GetServerKeysAsync(56, bound.Token);
        keys.PublicKey.Should().MatchRegex("^mkey:[0-9a-f]{64}$");
        keys.LegacyPublicKey.Should().MatchRegex("^mkey:[0-9a-f]{64}$").And.NotBe("mkey:" + new string('0', 64));
        (await control.Admin.GetNodesAsync(bound.Token)).Should().BeEmpty();
        var firstPid = control.Process.Id;

        await control.RestartAsync(bound.Token);

        control.Process.Id.Should().NotBe(firstPid);
        control.Url.Should().Be($"http://127.0.0.1:{control.Port}");
        var newKeys = await control.Admin.GetServerKeysAsync(56, bound.Token);
        newKeys.PublicKey.Should().MatchRegex("^mkey:[0-9a-f]{64}$").And.NotBe(keys.PublicKey);
        newKeys.LegacyPublicKey.Should().NotBe(keys.LegacyPublicKey);
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task TwoNodes_JoinWithAuthKey_SeeEachOtherOnline_AndPing()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp = await DerpServer.StartAsync(workDir, bound.Token);
        await using var control = await TestControlServer.StartAsync(
            workDir, new TestControlServerOptions { DerpPort = derp.TlsPort, StunPort = derp.StunPort, AuthKeys = new[] { GoodKey } }, bound.Token);
        await using var node1 = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts1" }, bound.Token);
        await using var node2 = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts2" }, bound.Token);

        await Task.WhenAll(
            node1.UpAsync(control.Url, GoodKey, "node1", cancellationToken: bound.Token),
            node2.UpAsync(control.Url, GoodKey, "node2", cancellationToken: bound.Token));

        var status1 = await node1.WaitForStatusAsync(s => s.FindPeer("node2.tail.test") is { Online: true }, PeerTimeout, "seeing node2 online", bound.Token);
        var status2 = await node2.WaitForStatusAsync(s => s.FindPeer("node1.tail.test") is { Online: true }, PeerTimeout, "seeing node1 online", bound.Token);
        status1.BackendState.Should().Be("Running");
        status1.MagicDnsSuffix.Should().Be("tail.test");
        status1.Self!.DNSName.Should().Be("node1.tail.test.");
        status2.Self!.DNSName.Should().Be("node2.tail.test.");
        status1.Self.TailscaleIPs.Should().Contain(ip => ip.StartsWith("100.64.0.", StringComparison.Ordinal));
        var peer2 = status1.FindPeer("node2")!;
        peer2.DNSName.Should().Be("node2.tail.test.");
        peer2.HostName.Should().Be("node2");
        peer2.TailscaleIPs.Should().Contain(status2.Self.TailscaleIPs.Single(ip => ip.StartsWith("100.64.0.", StringComparison.Ordinal)));
        status2.FindPeer("node1")!.TailscaleIPs.Should().Contain(status1.Self.TailscaleIPs.Single(ip => ip.StartsWith("100.64.0.", StringComparison.Ordinal)));

        var pong = await node1.PingAsync("node2", cancellationToken: bound.Token);
        pong.Should().MatchRegex(@"^pong from node2 \(100\.64\.0\.[0-9]+\) via (DERP\(test\)|127\.0\.0\.1:" + node2.Port + @"|[0-9.]+:" + node2.Port + @") in .+$");
        var back = await node2.PingAsync("100.64.0." + status1.Self.TailscaleIPs[0].Split('.')[3], cancellationToken: bound.Token);
        back.Should().StartWith("pong from node1 (");

        var path = (await node1.StatusJsonAsync(cancellationToken: bound.Token)).FindPeer("node2")!;
        (path.CurAddr.Length > 0 || path.Relay == "test").Should().BeTrue($"node2 has a path (CurAddr '{path.CurAddr}', Relay '{path.Relay}')");
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task WrongAuthKey_UpFailsWithServerMessage_NoNodeCreated()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await TestControlServer.StartAsync(
            workDir, new TestControlServerOptions { StunPort = -1, AuthKeys = new[] { GoodKey } }, bound.Token);
        await using var node = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts1", Ephemeral = true }, bound.Token);

        var up = await node.TryUpAsync(control.Url, "tskey-wrong", "node1", cancellationToken: bound.Token);

        up.Succeeded.Should().BeFalse(up.ToString());
        up.TimedOut.Should().BeFalse(up.ToString());
        (up.StandardOutput + up.StandardError).Should().Contain("auth key not accepted by testcontrol", "the server's register error reaches up");
        (await control.Admin.GetNodesAsync(bound.Token)).Should().BeEmpty();
        (await node.StatusJsonAsync(cancellationToken: bound.Token)).BackendState.Should().NotBe("Running");
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task AdminApi_ListsNodes_FilterRoundTrip_DeletedNodeLeavesPeersStatus()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp = await DerpServer.StartAsync(workDir, bound.Token);
        // Deltas: a full map whose peer list became empty omits Peers, which a v1.36.2 client reads as "no change"
        // and keeps the deleted peer; PeersRemoved in a delta removes it.
        await using var control = await TestControlServer.StartAsync(
            workDir, new TestControlServerOptions { DerpPort = derp.TlsPort, StunPort = derp.StunPort, Deltas = true }, bound.Token);
        await using var node1 = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts1" }, bound.Token);
        await using var node2 = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts2" }, bound.Token);
        await Task.WhenAll(
            node1.UpAsync(control.Url, "any-key", "node1", cancellationToken: bound.Token),
            node2.UpAsync(control.Url, "any-key", "node2", cancellationToken: bound.Token));

        var nodes = await Poll.UntilAsync(
            control.Admin.GetNodesAsync, list => list.Count == 2 && list.All(n => n.Online), PeerTimeout, "two online nodes", bound.Token);
        nodes.Select(n => n.Name).Should().BeEquivalentTo("node1.tail.test.", "node2.tail.test.");
        nodes.Should().OnlyContain(n => n.Addresses.Any(a => a == $"100.64.0.{n.ID}/32") && n.NodeKey.StartsWith("nodekey:", StringComparison.Ordinal));
        var self2 = (await node2.StatusJsonAsync(cancellationToken: bound.Token)).Self!;
        var admin2 = nodes.Single(n => n.Name == "node2.tail.test.");
        admin2.NodeKey.Should().Be(self2.PublicKey);
        admin2.Hostname.Should().Be("node2");

        (await control.Admin.GetFilterAsync(bound.Token)).Custom.Should().BeFalse();
        const string Rules = "[{\"SrcIPs\":[\"100.64.0.1\"],\"DstPorts\":[{\"IP\":\"100.64.0.2\",\"Ports\":{\"First\":8765,\"Last\":8765}}],\"IPProto\":[6]}]";
        await control.Admin.SetFilterAsync(Rules, bound.Token);
        var filter = await control.Admin.GetFilterAsync(bound.Token);
        filter.Custom.Should().BeTrue();
        using (var rules = System.Text.Json.JsonDocument.Parse(filter.RulesJson))
        {
            var rule = rules.RootElement.EnumerateArray().Single();
            rule.GetProperty("SrcIPs")[0].GetString().Should().Be("100.64.0.1");
            rule.GetProperty("DstPorts")[0].GetProperty("IP").GetString().Should().Be("100.64.0.2");
            rule.GetProperty("DstPorts")[0].GetProperty("Ports").GetProperty("First").GetInt32().Should().Be(8765);
            rule.GetProperty("IPProto")[0].GetInt32().Should().Be(6);
        }

        await control.Admin.DeleteFilterAsync(bound.Token);
        (await control.Admin.GetFilterAsync(bound.Token)).Custom.Should().BeFalse();

        await node1.WaitForStatusAsync(s => s.FindPeer("node2") is not null, PeerTimeout, "seeing node2", bound.Token);
        await control.Admin.DeleteNodeAsync(admin2.NodeKey, bound.Token);
        await node1.WaitForStatusAsync(s => s.FindPeer("node2") is null, PeerTimeout, "without node2", bound.Token);
        (await control.Admin.GetNodesAsync(bound.Token)).Select(n => n.Name).Should().Equal("node1.tail.test.");
        var deleteAgain = async () => await control.Admin.DeleteNodeAsync(admin2.NodeKey, bound.Token);
        (await deleteAgain.Should().ThrowAsync<TestControlAdminException>()).Which.StatusCode.Should().NotBe(System.Net.HttpStatusCode.OK);
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task RequireAuth_PendingAuthListsUrl_GetCompletesIt_NodeRuns()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await TestControlServer.StartAsync(
            workDir, new TestControlServerOptions { StunPort = -1, RequireAuth = true }, bound.Token);
        await using var node = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts1" }, bound.Token);

        var up = node.TryUpAsync(control.Url, authKey: null, "node1", cancellationToken: bound.Token);
        var pending = await Poll.UntilAsync(
            control.Admin.GetPendingAuthAsync, list => list.Count > 0 || up.IsCompleted, PeerTimeout, "a pending login", bound.Token);
        up.IsCompleted.Should().BeFalse("up waits for the interactive login");
        var login = pending.Should().ContainSingle().Subject;
        login.Hostname.Should().Be("node1");
        login.URL.Should().StartWith(control.Url + "/auth/");
        login.NodeKey.Should().StartWith("nodekey:");

        await control.Admin.CompleteAuthAsync(login.URL, bound.Token);

        var result = await up;
        result.Succeeded.Should().BeTrue(result.ToString());
        (result.StandardOutput + result.StandardError).Should().Contain(login.URL, "up printed the URL it waited on");
        var status = await node.WaitForStatusAsync(s => s.BackendState == "Running", PeerTimeout, "running", bound.Token);
        status.Self!.PublicKey.Should().Be(login.NodeKey);
        status.Self.DNSName.Should().Be("node1.tail.test.");
        (await control.Admin.GetPendingAuthAsync(bound.Token)).Should().BeEmpty();
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task DerpOnlyNodes_PingThroughDerper()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp = await DerpServer.StartAsync(workDir, bound.Token);
        await using var control = await TestControlServer.StartAsync(
            workDir, new TestControlServerOptions { DerpPort = derp.TlsPort, StunPort = derp.StunPort, ReadonlyUpdatesDerp = true }, bound.Token);
        await using var node1 = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts1", DerpOnly = true, Ephemeral = true }, bound.Token);
        await using var node2 = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = "ts2", DerpOnly = true, Ephemeral = true }, bound.Token);
        await Task.WhenAll(
            node1.UpAsync(control.Url, "any-key", "node1", cancellationToken: bound.Token),
            node2.UpAsync(control.Url, "any-key", "node2", cancellationToken: bound.Token));
        // Read-only polls: the server never marks these nodes Online; node2's home region reaching node1 is what counts.
        await node1.WaitForStatusAsync(s => s.FindPeer("node2") is { Relay: "test" }, PeerTimeout, "seeing node2 at DERP region test", bound.Token);

        var pong = await node1.PingAsync("node2", count: 3, cancellationToken: bound.Token);

        pong.Should().MatchRegex(@"^pong from node2 \(100\.64\.0\.[0-9]+\) via DERP\(test\) in .+$");
        var peer = (await node1.StatusJsonAsync(cancellationToken: bound.Token)).FindPeer("node2")!;
        peer.CurAddr.Should().BeEmpty("UDP paths are off");
        peer.Relay.Should().Be("test");
        (await control.Admin.GetNodesAsync(bound.Token)).Should().OnlyContain(n => n.Ephemeral && n.DERP == "127.3.3.40:1");
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task FailedStart_ThrowsWithLog_LeavesNoProcess_AndUncompletedWorkDirKeepsLogs()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        var lines = new List<string>();
        var capture = new TestLog(line =>
        {
            lock (lines)
            {
                lines.Add(line);
            }

            _log.Write(line);
        });
        var workDir = await TailscaleWorkDir.CreateAsync(capture, bound.Token);
        try
        {
            var start = async () => await TestControlServer.StartAsync(workDir, new TestControlServerOptions { FilterRulesJson = "not json" }, bound.Token);

            (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("testcontrol-server did not start").And.Contain("control-1.log");
            TailscaleLeftovers.FindProcesses().Should().NotContain(p => p.Directory.StartsWith(workDir.Path, StringComparison.Ordinal));
        }
        finally
        {
            await workDir.DisposeAsync();
        }

        Directory.Exists(workDir.Path).Should().BeTrue("an uncompleted test keeps its work directory");
        lock (lines)
        {
            lines.Should().Contain(line => line.Contains("==== " + workDir.File("control-1.log"), StringComparison.Ordinal));
        }

        Directory.Delete(workDir.Path, recursive: true);
    }

    [TailscaleFact]
    public async Task LeftoverCleaning_StopsProcessesOfGoneOwner_SparesLiveRun()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var live = await TestControlServer.StartAsync(workDir, new TestControlServerOptions { StunPort = -1 }, bound.Token);

        // A work directory of an owner that is gone (no such pid), with a control server running in it as a crashed run would leave it.
        var goneOwner = Enumerable.Range(4_000_000, 100_000).First(pid => !Directory.Exists("/proc/" + pid));
        LeftoverCleaner.IsStaleOwner(goneOwner).Should().BeTrue();
        var staleDirectory = Path.Combine(Path.GetTempPath(), $"{TailscaleWorkDir.Prefix}{goneOwner}-1");
        Directory.CreateDirectory(staleDirectory);
        var stale = TailscaleChild.Start(
            TailscaleBinaries.PathOf(TailscaleBinaries.TestControlServerName),
            new[] { "-listen", "127.0.0.1:" + TailscalePorts.FreeTcp(), "-stun-port", "-1" },
            staleDirectory,
            Path.Combine(staleDirectory, "control.log"),
            _log,
            "stale-control");
        await using (stale)
        {
            (await stale.WaitForLineAsync(line => line.StartsWith("TESTCONTROL_URL=", StringComparison.Ordinal), TestControlServer.StartTimeout, bound.Token))
                .Should().NotBeNull();
            var found = TailscaleLeftovers.FindProcesses();
            found.Should().Contain(p => p.Pid == stale.Id && p.OwnerPid == goneOwner && p.Program == TailscaleBinaries.TestControlServerName);
            found.Should().Contain(p => p.Pid == live.Process.Id && p.OwnerPid == Environment.ProcessId);

            // Select like the start of a run does, but never this process (its live server must survive).
            var removed = await TailscaleLeftovers.CleanAsync(_log, owner => owner != Environment.ProcessId && LeftoverCleaner.IsStaleOwner(owner));

            removed.Should().BeGreaterOrEqualTo(2, "the process and its directory");
            (await stale.WaitForExitAsync(TimeSpan.FromSeconds(5))).Should().BeTrue("the leftover was stopped");
            Directory.Exists(staleDirectory).Should().BeFalse();
            live.Process.HasExited.Should().BeFalse();
            (await live.Admin.GetServerKeysAsync(cancellationToken: bound.Token)).PublicKey.Should().StartWith("mkey:");
        }

        workDir.Complete();
    }

    [TailscaleFact]
    public async Task ControlServer_PortTakenBetweenProbeAndBind_RetriesOnceWithAnotherPort()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, TailscalePorts.FreeTcp());
        taken.Start();
        try
        {
            var takenPort = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

            await using var control = await TestControlServer.StartAsync(workDir, new TestControlServerOptions { StunPort = -1 }, takenPort, bound.Token);

            control.Port.Should().NotBe(takenPort);
            File.ReadAllText(workDir.File("control-1.log")).Should().Contain("address already in use", "the first attempt lost the port");
            (await control.Admin.GetServerKeysAsync(cancellationToken: bound.Token)).PublicKey.Should().StartWith("mkey:");
        }
        finally
        {
            taken.Stop();
        }

        workDir.Complete();
    }
}
