using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// derp.md §6.4: when STUN gets no answer, netcheck measures HTTPS latency to the real derper's
/// <c>/derp/latency-check</c>; the node still has a home region and its region latency comes from HTTPS.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsHttpsLatencyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan LatencyTimeout = TimeSpan.FromSeconds(20);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(60) + TestScale.Bound(TimeSpan.FromSeconds(30));

    [TailscaleFact]
    public async Task StunPortBlocked_RegionLatencyComesFromHttps_AndTheNodeHasAHome()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: false, bound.Token);
        var node = rig.AddNode("alpha");
        await using var block = await rig.BlockUdpAsync(node.Options.ListenPort, rig.Derp.StunPort, bound.Token);
        await node.UpAsync(bound.Token);

        var latencies = await WaitForLatencyAsync(node, bound.Token);

        (await block.GetDroppedPacketsAsync(bound.Token)).Should().BePositive("netcheck sent STUN to derper and the rule dropped it");
        latencies[PathsRig.RegionId].Should().BePositive().And.BeLessThan(TimeSpan.FromSeconds(3));
        node.Server.GetStatus().HomeDerpRegion.Should().Be(PathsRig.RegionId);
        rig.Complete();
    }

    [TailscaleFact]
    public async Task MapWithoutStun_RegionLatencyComesFromHttps_AndTheNodeConnectsHome()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp = await DerpServer.StartAsync(workDir, bound.Token);
        await using var control = await TestControlServer.StartAsync(
            workDir, new TestControlServerOptions { DerpPort = derp.TlsPort, StunPort = -1 }, bound.Token);
        await using var node = ControlModeNode.Create(workDir, control.Url, "alpha", authKey: "tskey-https");
        await node.UpAsync(bound.Token);

        var latencies = await WaitForLatencyAsync(node, bound.Token);

        latencies[PathsRig.RegionId].Should().BePositive().And.BeLessThan(TimeSpan.FromSeconds(3));
        node.Server.GetStatus().HomeDerpRegion.Should().Be(PathsRig.RegionId);
        var (_, regions) = await node.Server.GetPathsDiagnosticsAsync(bound.Token);
        regions.Should().ContainSingle(r => r.RegionId == PathsRig.RegionId && r.IsHome);
        workDir.Complete();
    }

    /// <summary>Waits (bounded) until netcheck lists a latency for the region; STUN cannot have given it.</summary>
    private async Task<IReadOnlyDictionary<int, TimeSpan>> WaitForLatencyAsync(ControlModeNode node, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (latencies, _) = await Poll.UntilAsync(
            node.Server.GetPathsDiagnosticsAsync,
            d => d.Latencies.ContainsKey(PathsRig.RegionId),
            LatencyTimeout,
            "a latency for region 1",
            cancellationToken);
        _log.Write($"MEASURED HTTPS latency to region 1: {latencies[PathsRig.RegionId].TotalMilliseconds:0.0} ms, known {clock.Elapsed.TotalSeconds:0.0} s after up");
        return latencies;
    }
}
