using System.Diagnostics;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Issue 12: home selection and cross-region sends with two real derpers (regions 1 "one" and 2 "two") and a
/// two-region DERP map from an in-process fake control server. <c>HomeParams.RegionScore</c> steers node X home to
/// region 1 and node Y to region 2; with direct UDP dropped, X reaches Y through Y's home (region 2) and Y reaches X
/// through region 1; without the drop both go direct; flipped scores move both homes and traffic still flows.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsTwoRegionTests(ITestOutputHelper output)
{
    private const double Preferred = 1;
    // Loopback latencies are tens of µs: only a huge multiplier makes a region lose by the 10 ms hysteresis.
    private const double Shunned = 100_000;

    private static readonly TimeSpan HomeTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(30);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(150) + TestScale.Bound(TimeSpan.FromSeconds(60));

    private static long EchoBytes => 4L * 1024 * 1024 * TestScale.Factor;

    [TailscaleFact]
    public async Task ScoresSteerHomes_DerpCrossesRegions_DirectWhenUnblocked_FlippedScoresMoveHomes()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp1 = await DerpServer.StartAsync(workDir, bound.Token);
        await using var derp2 = await DerpServer.StartAsync(workDir, "derp2.tail.test", bound.Token);
        await using var tailnet = new FakeControlTailnet(workDir, [new FakeDerpRegion(1, "one", derp1), new FakeDerpRegion(2, "two", derp2)]);
        var x = tailnet.AddNode("xnode", 1, new Dictionary<int, double> { [1] = Preferred, [2] = Shunned });
        var y = tailnet.AddNode("ynode", 2, new Dictionary<int, double> { [1] = Shunned, [2] = Preferred });
        var runner = new ProcessRunner(workDir.Log);
        var block = await UdpPathBlock.AddAsync(runner, x.Node.Options.ListenPort, y.Node.Options.ListenPort, bound.Token);
        try
        {
            await tailnet.UpAsync(bound.Token);
            await WaitForHomeAsync(x, 1, bound.Token);
            await WaitForHomeAsync(y, 2, bound.Token);
            foreach (var node in new[] { x, y })
            {
                // NetInfo.DERPLatency: what netcheck measured to both regions went to control with the home.
                await node.Node.WaitUntilAsync(_ => node.ReportedLatencies.Count == 2, PathTimeout, "DERP latencies of both regions reported to control", bound.Token);
                node.ReportedLatencies.Keys.Should().BeEquivalentTo(new[] { 1, 2 });
                node.ReportedLatencies.Values.Should().OnlyContain(latency => latency > TimeSpan.Zero);
                _log.Write($"[{node.Node.Name}] reported DERP latencies: {string.Join(", ", node.ReportedLatencies.Select(pair => $"{pair.Key}={pair.Value.TotalMilliseconds:0.00} ms"))}");
            }

            await tailnet.PushAllAsync(bound.Token);
            await x.Node.WaitUntilAsync(_ => x.Node.HasPeer(y.Node.Server.PublicKey), PathTimeout, "seeing ynode", bound.Token);
            await y.Node.WaitUntilAsync(_ => y.Node.HasPeer(x.Node.Server.PublicKey), PathTimeout, "seeing xnode", bound.Token);

            await using var echoOnY = await TailnetEchoServer.StartAsync(y.Node.Server, OverlayPorts.Next(), y.Name, _log, bound.Token);
            await using var echoOnX = await TailnetEchoServer.StartAsync(x.Node.Server, OverlayPorts.Next(), x.Name, _log, bound.Token);
            await EchoAsync(x, y, echoOnY.Port, EchoBytes, 1201, "X→Y through DERP", bound.Token);
            await EchoAsync(y, x, echoOnX.Port, EchoBytes, 1202, "Y→X through DERP", bound.Token);
            await WaitForPathAsync(x, y, p => p == "derp two", "X to Y through Y's home region", bound.Token);
            await WaitForPathAsync(y, x, p => p == "derp one", "Y to X through X's home region", bound.Token);
            await AssertDerpConnectionsAsync(x, home: 1, other: 2, bound.Token);
            await AssertDerpConnectionsAsync(y, home: 2, other: 1, bound.Token);
            (await block.GetDroppedPacketsAsync(bound.Token)).Should().BePositive("the nodes tried their direct path and the rule dropped it");

            await block.RemoveAsync();
            await using (var connection = await x.Node.Server.ConnectTcpAsync($"{y.IPv4}:{echoOnY.Port}", bound.Token))
            {
                await Poll.UntilAsync(
                    async token =>
                    {
                        // Traffic keeps the path machinery probing; each round trip is small.
                        var back = await TailnetEchoServer.ExchangeAsync(connection, 16 * 1024, 1203, token);
                        back.Should().Be(new TransferDigest(16 * 1024, TestData.Sha256(16 * 1024, 1203)));
                        return (XtoY: PathsRig.PathOf(x.Node, y.Node.Server.PublicKey), YtoX: PathsRig.PathOf(y.Node, x.Node.Server.PublicKey));
                    },
                    paths => paths.XtoY is { } a && PathsRig.IsDirectPath(a) && paths.YtoX is { } b && PathsRig.IsDirectPath(b),
                    PathTimeout,
                    "both paths direct after the rule went",
                    bound.Token,
                    TimeSpan.FromMilliseconds(250));
            }

            _log.Write($"paths after unblocking: X→Y {PathsRig.PathOf(x.Node, y.Node.Server.PublicKey)}, Y→X {PathsRig.PathOf(y.Node, x.Node.Server.PublicKey)}");

            x.RegionScore = new Dictionary<int, double> { [1] = Shunned, [2] = Preferred };
            y.RegionScore = new Dictionary<int, double> { [1] = Preferred, [2] = Shunned };
            var flipped = Stopwatch.StartNew();
            await tailnet.PushAllAsync(bound.Token);
            await WaitForHomeAsync(x, 2, bound.Token);
            await WaitForHomeAsync(y, 1, bound.Token);
            _log.Write($"MEASURED homes moved {flipped.Elapsed.TotalSeconds:0.0} s after the flipped maps");
            await tailnet.PushAllAsync(bound.Token);
            await EchoAsync(x, y, echoOnY.Port, EchoBytes / 4, 1204, "X→Y after the flip (direct)", bound.Token);

            block = await UdpPathBlock.AddAsync(runner, x.Node.Options.ListenPort, y.Node.Options.ListenPort, bound.Token);
            await EchoAsync(x, y, echoOnY.Port, EchoBytes, 1205, "X→Y after the flip, UDP dropped again", bound.Token);
            await EchoAsync(y, x, echoOnX.Port, EchoBytes, 1206, "Y→X after the flip, UDP dropped again", bound.Token);
            await WaitForPathAsync(x, y, p => p == "derp one", "X to Y through Y's new home region", bound.Token);
            await WaitForPathAsync(y, x, p => p == "derp two", "Y to X through X's new home region", bound.Token);
            await AssertDerpConnectionsAsync(x, home: 2, other: 1, bound.Token);
            await AssertDerpConnectionsAsync(y, home: 1, other: 2, bound.Token);
            workDir.Complete();
        }
        finally
        {
            await block.DisposeAsync();
        }
    }

    private async Task WaitForHomeAsync(FakeControlNode node, int region, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await node.Node.WaitUntilAsync(
            server => server.GetStatus().HomeDerpRegion == region && node.ReportedHome == region,
            HomeTimeout,
            $"home region {region} in status and reported to control (status {node.Node.Server.GetStatus().HomeDerpRegion}, reported {node.ReportedHome})",
            cancellationToken);
        _log.Write($"{node.Name}: home region {region} after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private async Task EchoAsync(FakeControlNode from, FakeControlNode to, int port, long bytes, ulong seed, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = await from.Node.Server.ConnectTcpAsync($"{to.IPv4}:{port}", cancellationToken);
        var back = await TailnetEchoServer.ExchangeAsync(connection, bytes, seed, cancellationToken);
        back.Should().Be(new TransferDigest(bytes, TestData.Sha256(bytes, seed)), $"the echo {what} is byte-exact");
        var seconds = clock.Elapsed.TotalSeconds;
        _log.Write($"MEASURED echo {what}: {TestScale.Describe(bytes)} each way in {seconds:0.00} s = {bytes * 8 / seconds / 1e6:0.0} Mbit/s per direction; " +
                   $"path {PathsRig.PathOf(from.Node, to.Node.Server.PublicKey)}");
    }

    private static Task WaitForPathAsync(FakeControlNode from, FakeControlNode to, Func<string, bool> condition, string what, CancellationToken cancellationToken) =>
        from.Node.WaitUntilAsync(
            _ => PathsRig.PathOf(from.Node, to.Node.Server.PublicKey) is { } path && condition(path),
            PathTimeout,
            what + $" (path now {PathsRig.PathOf(from.Node, to.Node.Server.PublicKey) ?? "none"})",
            cancellationToken);

    private async Task AssertDerpConnectionsAsync(FakeControlNode node, int home, int other, CancellationToken cancellationToken)
    {
        var (latencies, regions) = await node.Node.Server.GetPathsDiagnosticsAsync(cancellationToken);
        _log.Write($"{node.Name}: DERP {string.Join("; ", regions)}; latencies {string.Join(", ", latencies.Select(l => $"{l.Key}={l.Value.TotalMilliseconds:0.000} ms"))}");
        regions.Should().Contain(r => r.RegionId == home && r.IsHome && r.Connected, $"{node.Name} is connected to its home region {home}");
        regions.Should().Contain(r => r.RegionId == other && !r.IsHome && r.Connected && r.PacketsSent > 0,
            $"{node.Name} reaches its peer through the peer's home region {other}");
        latencies.Keys.Should().BeEquivalentTo([1, 2], "netcheck measured both regions");
    }
}
