using System.Net;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// The control server goes away under two running TsNet nodes: traffic on their established direct path keeps
/// flowing while it is down; a restarted server (new keys, no nodes) gets both nodes back with their auth key, and
/// when it hands out other addresses the nodes take them (old connections reset, new dials work).
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class ControlModeServerRestartTests(ITestOutputHelper output)
{
    private const string GoodKey = "tskey-tsnet-interop";

    // Re-registration after a restart waits for the client's reconnect backoff; generous for a loaded machine.
    private static readonly TimeSpan ReRegisterTimeout = TimeSpan.FromSeconds(60);

    // A killed server resets the map stream's TCP connection: the nodes notice at once.
    private static readonly TimeSpan DownTimeout = TimeSpan.FromSeconds(15);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(150) + TestScale.Bound(TimeSpan.FromSeconds(30));

    [TailscaleFact]
    public async Task ControlServerKilled_EstablishedStreamKeepsFlowing_RestartedServer_NodesRunningAgain()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, AuthKeys = [GoodKey] }, bound.Token);
        var (alpha, beta) = await ControlModeTrafficTests.UpPairAsync(rig, bound.Token);
        await using var echo = await TailnetEchoServer.StartAsync(beta.Server, OverlayPorts.Next(), "beta", _log, bound.Token);
        await using var connection = await alpha.Server.ConnectTcpAsync($"beta:{echo.Port}", bound.Token);
        var chunk = Math.Max(TestScale.TransferBytes / 4, 64 * 1024);
        await ExpectEchoAsync(connection, chunk, 31, bound.Token);

        var killed = rig.Control.Process;
        await killed.StopAsync(TimeSpan.Zero);
        killed.HasExited.Should().BeTrue();
        await FluentActions.Awaiting(() => rig.Control.Admin.GetNodesAsync(bound.Token)).Should().ThrowAsync<HttpRequestException>("the server is down");
        await alpha.WaitUntilAsync(server => !server.GetStatus().ControlConnected, DownTimeout, "seeing the control connection down", bound.Token);
        await beta.WaitUntilAsync(server => !server.GetStatus().ControlConnected, DownTimeout, "seeing the control connection down", bound.Token);

        // While it is down: more bytes both ways on the same connection, byte-exact, in several rounds.
        for (ulong round = 0; round < 3; round++)
        {
            await ExpectEchoAsync(connection, chunk, 32 + round, bound.Token);
        }

        alpha.Server.State.Should().Be(TailnetState.Running, "a lost control connection is not a stopped node");
        beta.Server.State.Should().Be(TailnetState.Running);

        await rig.Control.RestartAsync(bound.Token);
        var nodes = await Poll.UntilAsync(
            rig.Control.Admin.GetNodesAsync, list => list.Count == 2 && list.All(node => node.Online), ReRegisterTimeout, "both nodes registered again and online", bound.Token);
        nodes.Select(node => node.NodeKey).Should().BeEquivalentTo(new[] { alpha.NodeKeyText, beta.NodeKeyText }, "the same node keys, registered again");
        nodes.Select(node => node.Name).Should().BeEquivalentTo("alpha.tail.test.", "beta.tail.test.");
        await alpha.WaitUntilAsync(server => server.GetStatus().ControlConnected, DownTimeout, "connected again", bound.Token);
        await beta.WaitUntilAsync(server => server.GetStatus().ControlConnected, DownTimeout, "connected again", bound.Token);
        alpha.Server.State.Should().Be(TailnetState.Running);
        beta.Server.State.Should().Be(TailnetState.Running);
        rig.Complete();
    }

    [TailscaleFact]
    public async Task ControlServerRestarted_OtherAddresses_NodesApplyThem_OldConnectionResets_NewDialsWork()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, AuthKeys = [GoodKey] }, bound.Token);

        // Node IDs (and so addresses 100.64.0.<id>) follow registration order: two bare registrations first put alpha
        // and beta on IDs 3 and 4; the restarted server has no nodes, so they come back on 1 and 2 whatever their order.
        await ControlRegistrar.RegisterAsync(rig.Control.Url, GoodKey, "filler1", bound.Token);
        await ControlRegistrar.RegisterAsync(rig.Control.Url, GoodKey, "filler2", bound.Token);
        var (alpha, beta) = await ControlModeTrafficTests.UpPairAsync(rig, bound.Token);
        var oldAlpha = alpha.IPv4;
        var oldBeta = beta.IPv4;
        new[] { oldAlpha, oldBeta }.Should().BeEquivalentTo(new[] { IPAddress.Parse("100.64.0.3"), IPAddress.Parse("100.64.0.4") });
        await using var echo = await TailnetEchoServer.StartAsync(beta.Server, OverlayPorts.Next(), "beta", _log, bound.Token);
        await using var old = await alpha.Server.ConnectTcpAsync($"beta:{echo.Port}", bound.Token);
        await ExpectEchoAsync(old, 64 * 1024, 41, bound.Token);

        await rig.Control.RestartAsync(bound.Token);
        var nodes = await Poll.UntilAsync(
            rig.Control.Admin.GetNodesAsync, list => list.Count == 2 && list.All(node => node.Online), ReRegisterTimeout, "both nodes registered again and online", bound.Token);
        var newAlpha = AddressOf(nodes, alpha);
        var newBeta = AddressOf(nodes, beta);
        new[] { newAlpha, newBeta }.Should().BeEquivalentTo(new[] { IPAddress.Parse("100.64.0.1"), IPAddress.Parse("100.64.0.2") });
        await alpha.WaitUntilAsync(server => server.Addresses.Contains(newAlpha) && !server.Addresses.Contains(oldAlpha), ReRegisterTimeout, $"on {newAlpha}", bound.Token);
        await beta.WaitUntilAsync(server => server.Addresses.Contains(newBeta) && !server.Addresses.Contains(oldBeta), ReRegisterTimeout, $"on {newBeta}", bound.Token);
        alpha.Server.State.Should().Be(TailnetState.Running);
        beta.Server.State.Should().Be(TailnetState.Running);

        // The connection between the old addresses ends with a reset, not a hang and not a clean end.
        using (var resetBound = CancellationTokenSource.CreateLinkedTokenSource(bound.Token))
        {
            resetBound.CancelAfter(TimeSpan.FromSeconds(20));
            var reset = await FluentActions.Awaiting(() => TailnetEchoServer.ExchangeAsync(old, 1000, 42, resetBound.Token))
                .Should().ThrowAsync<Exception>("a reset is an error, not a clean end of the stream");
            _log.Write($"old connection: {reset.Which.GetType().Name}: {reset.Which.Message}");
            reset.Which.Should().Match<Exception>(
                e => e is IOException || e is System.Net.Sockets.SocketException,
                "the old connection is reset (IOException/SocketException), it does not hang (OperationCanceledException)");
        }

        // New dials by name reach beta on its new address; WhoIs knows alpha's new address.
        await beta.WaitUntilAsync(_ => beta.HasPeer(alpha.Server.PublicKey), ReRegisterTimeout, "seeing alpha again", bound.Token);
        await alpha.WaitUntilAsync(_ => alpha.HasPeer(beta.Server.PublicKey), ReRegisterTimeout, "seeing beta again", bound.Token);
        // Known limit (not asserted): the node that registered first again saw a netmap without the other and dropped
        // it, WireGuard session included; the other kept its session. When the latter dials, its packets use a session
        // the peer no longer has and are dropped until WireGuard's no-reply rule (15 s) starts a new handshake, so this
        // dial can take up to ~31 s of SYN retries. The log line below shows which case a run hit.
        var dialClock = System.Diagnostics.Stopwatch.StartNew();
        await using var fresh = await alpha.Server.ConnectTcpAsync($"beta:{echo.Port}", bound.Token);
        _log.Write($"new dial alpha ({newAlpha}) → beta ({newBeta}) connected after {dialClock.Elapsed.TotalSeconds:F1} s; " +
                   $"beta's drops: {string.Join(", ", beta.Server.GetStatus().Drops.Select(drop => drop.Key + "=" + drop.Value))}");
        fresh.RemoteEndPoint.Address.Should().Be(newBeta);
        fresh.LocalEndPoint.Address.Should().Be(newAlpha);
        await ExpectEchoAsync(fresh, Math.Max(TestScale.TransferBytes / 4, 64 * 1024), 43, bound.Token);
        var identity = await beta.Server.WhoIsAsync(echo.Remotes[^1], bound.Token);
        identity.Should().NotBeNull();
        identity!.Addresses.Should().Contain(newAlpha);
        identity.HostName.Should().Be("alpha");
        rig.Complete();
    }

    private static IPAddress AddressOf(IReadOnlyList<ControlNode> nodes, ControlModeNode node)
    {
        var prefix = nodes.Single(entry => entry.NodeKey == node.NodeKeyText).Addresses.First(address => address.StartsWith("100.", StringComparison.Ordinal));
        return IPAddress.Parse(prefix[..prefix.IndexOf('/', StringComparison.Ordinal)]);
    }

    private async Task ExpectEchoAsync(Stream connection, long bytes, ulong seed, CancellationToken cancellationToken)
    {
        var back = await TailnetEchoServer.ExchangeAsync(connection, bytes, seed, cancellationToken);
        _log.Write($"echo seed {seed}: {back}");
        back.Should().Be(new TransferDigest(bytes, TestData.Sha256(bytes, seed)));
    }
}
