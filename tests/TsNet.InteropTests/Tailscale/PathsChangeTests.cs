using System.Diagnostics;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Issue 12, interop test 3: while a download from a TsNet node runs over its direct path to tailscaled, an nft rule
/// drops the UDP between the two ports. The node falls back to DERP (its status shows <c>derp test</c> while the
/// rule is there), the download completes byte-exact, and once the rule is gone the path returns to direct.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsChangeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(20);

    // Issue 12 asks the path to come back to direct once the rule is gone; the brief bounds that wait to about 30 s.
    private static readonly TimeSpan BackToDirectTimeout = TimeSpan.FromSeconds(30);

    // The download is throttled to last about this long, so the block lands in its middle.
    private static readonly TimeSpan PlannedTransferTime = TimeSpan.FromSeconds(10);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(120) + TestScale.Bound(TimeSpan.FromSeconds(60));

    private static TimeSpan TransferTimeout => TimeSpan.FromSeconds(30) + TestScale.Bound(TimeSpan.FromSeconds(60));

    [TailscaleFact]
    public async Task DirectPathDroppedMidDownload_CompletesOverDerp_StatusDerpWhileBlocked_ThenDirectAgain()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: false, bound.Token);
        var (node, daemon, daemonKey) = await rig.UpTsNetAndTailscaledAsync(derpOnly: false, bound.Token);
        var http = await rig.StartTailnetHttpAsync(node, bound.Token);
        await TailscalePong.WaitForAsync(daemon, "tsnode", p => p.IsDirect, PathTimeout, "over a direct path", bound.Token);
        await rig.WaitForPathAsync(node, daemonKey, PathsRig.IsDirectPath, PathTimeout, "direct before the block", bound.Token);

        var bytes = PathsRig.TransferBytes;
        var curl = rig.CurlVia(daemon);
        var download = await curl.StartThrottledDownloadAsync("tsnode.tail.test", http.Port, bytes, 301, PlannedTransferTime, 0.1, TransferTimeout, bound.Token);

        HttpDownload completed;
        await using (var block = await rig.BlockUdpAsync(daemon.Port, node.Server.ListenPort, bound.Token))
        {
            var blockedAt = Stopwatch.StartNew();
            var inAtBlock = download.BytesIn;
            var doneAfterBlock = download.Completion.ContinueWith(_ => blockedAt.Elapsed, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            var (_, untilDerp) = await rig.WaitForPathAsync(node, daemonKey, p => p == PathsRig.DerpPath, PathTimeout, "through DERP while blocked", bound.Token);
            completed = await download.Completion;
            var downloadDone = await doneAfterBlock;
            rig.LogStatus("after the download (blocked)", node, daemonKey);
            completed.ByteExact.Should().BeTrue(completed.Describe());
            PathsRig.PathOf(node, daemonKey).Should().Be(PathsRig.DerpPath, "the rule is still there after the download");
            (await block.GetDroppedPacketsAsync(bound.Token)).Should().BePositive("the rule cut traffic the two had on their direct path");
            _log.Write($"MEASURED TsNet path change: direct → {PathsRig.DerpPath} {untilDerp.TotalSeconds:0.0} s after the block " +
                       $"({TestScale.Describe(inAtBlock)} in at the block); download done {downloadDone.TotalSeconds:0.0} s after the block, {completed.Describe()}");
            await block.RemoveAsync();
        }

        var (path, untilDirect) = await rig.WaitForPathAsync(node, daemonKey, PathsRig.IsDirectPath, BackToDirectTimeout, "direct again after the block", bound.Token);
        _log.Write($"MEASURED TsNet path change: {PathsRig.DerpPath} → {path} {untilDirect.TotalSeconds:0.0} s after the rule went");
        var after = await curl.DownloadAsync("tsnode.tail.test", http.Port, PathsTraffic.ProbeBytes, 302, TimeSpan.FromSeconds(10), cancellationToken: bound.Token);
        after.ByteExact.Should().BeTrue("traffic flows on the direct path again: " + after.Describe());
        http.Errors.Should().BeEmpty();
        rig.Complete();
    }
}
