using System.Collections.Concurrent;
using System.Diagnostics;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Issue 12, interop test 4: derper restarted (same ports, same key) during a session. A download on the direct path
/// between a TsNet node and tailscaled is unaffected (byte-exact, the path stays direct throughout); a DERP-only pair
/// carries traffic again within 15 s of the restart.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsDerpRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(20);

    // The download is throttled to last about this long, so the restart lands in its middle.
    private static readonly TimeSpan PlannedTransferTime = TimeSpan.FromSeconds(6);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(90) + TestScale.Bound(TimeSpan.FromSeconds(45));

    private static TimeSpan TransferTimeout => TimeSpan.FromSeconds(20) + TestScale.Bound(TimeSpan.FromSeconds(30));

    [TailscaleFact]
    public async Task DerperRestartedDuringDirectDownload_DownloadUnaffected_PathStaysDirect()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: false, bound.Token);
        var (node, daemon, daemonKey) = await rig.UpTsNetAndTailscaledAsync(derpOnly: false, bound.Token);
        var http = await rig.StartTailnetHttpAsync(node, bound.Token);
        await TailscalePong.WaitForAsync(daemon, "tsnode", p => p.IsDirect, PathTimeout, "over a direct path", bound.Token);
        await rig.WaitForPathAsync(node, daemonKey, PathsRig.IsDirectPath, PathTimeout, "direct before the restart", bound.Token);

        var bytes = PathsRig.TransferBytes;
        var curl = rig.CurlVia(daemon);
        var paths = new ConcurrentQueue<string>();
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        var sampling = SamplePathsAsync(node, daemonKey, paths, stopSampling.Token);
        var download = await curl.StartThrottledDownloadAsync("tsnode.tail.test", http.Port, bytes, 401, PlannedTransferTime, 0.2, TransferTimeout, bound.Token);

        var restart = Stopwatch.StartNew();
        await rig.Derp.RestartAsync(bound.Token);
        _log.Write($"derper restarted in {restart.Elapsed.TotalSeconds:0.00} s, {TestScale.Describe(download.BytesIn)} of the download in");
        var completed = await download.Completion;
        rig.LogStatus("after the download", node, daemonKey);
        await stopSampling.CancelAsync();
        await sampling;

        completed.ByteExact.Should().BeTrue(completed.Describe());
        paths.Should().NotBeEmpty().And.OnlyContain(path => PathsRig.IsDirectPath(path), "the direct path does not depend on derper");
        PathsRig.IsDirectPath(PathsRig.PathOf(node, daemonKey) ?? string.Empty).Should().BeTrue();
        http.Errors.Should().BeEmpty();
        _log.Write($"MEASURED TsNet→tailscaled direct download across a derper restart: {completed.Describe()} (throttled to {TestScale.Describe(download.BytesPerSecond)}/s), {paths.Count} path samples all direct");
        rig.Complete();
    }

    [TailscaleFact]
    public async Task DerperRestarted_DerpOnlyTailscaledAndTsNet_CarryTrafficAgainWithin15s()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: true, bound.Token);
        var (node, daemon, daemonKey) = await rig.UpTsNetAndTailscaledAsync(derpOnly: true, bound.Token);
        var http = await rig.StartTailnetHttpAsync(node, bound.Token);
        var curl = rig.CurlVia(daemon);
        var before = await curl.DownloadAsync("tsnode.tail.test", http.Port, PathsTraffic.ProbeBytes, 411, TimeSpan.FromSeconds(15), cancellationToken: bound.Token);
        before.ByteExact.Should().BeTrue("the pair talks through DERP before the restart: " + before.Describe());
        await rig.WaitForPathAsync(node, daemonKey, p => p == PathsRig.DerpPath, PathTimeout, "through DERP before the restart", bound.Token);

        var pid = rig.Derp.Process.Id;
        var sinceStop = Stopwatch.StartNew();
        await rig.Derp.RestartAsync(bound.Token);
        var restartTook = sinceStop.Elapsed;
        rig.Derp.Process.Id.Should().NotBe(pid);
        var recovery = await PathsTraffic.WaitForSmallDownloadAsync(
            curl, "tsnode.tail.test", http.Port, PathsTraffic.DerpRecoveryBound + TimeSpan.FromSeconds(15), bound.Token);
        rig.LogStatus("after the recovery", node, daemonKey);
        _log.Write($"MEASURED TsNet↔tailscaled DERP only: traffic again {recovery.TotalSeconds:0.0} s after the new derper served ({(restartTook + recovery).TotalSeconds:0.0} s after the old one was stopped)");
        recovery.Should().BeLessThanOrEqualTo(PathsTraffic.DerpRecoveryBound, "issue 12: a DERP-only pair carries traffic again within 15 s of the restart");
        PathsRig.PathOf(node, daemonKey).Should().Be(PathsRig.DerpPath);
        node.Server.GetStatus().HomeDerpRegion.Should().Be(PathsRig.RegionId);
        rig.Complete();
    }

    private static async Task SamplePathsAsync(ControlModeNode node, WireGuardKey peer, ConcurrentQueue<string> paths, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                paths.Enqueue(PathsRig.PathOf(node, peer) ?? "(none)");
                await Task.Delay(100, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Sampling ends with the download.
        }
    }
}
