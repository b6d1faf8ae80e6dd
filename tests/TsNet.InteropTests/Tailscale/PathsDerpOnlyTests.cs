using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Issue 12, interop test 2: tailscaled with <c>TS_DEBUG_ALWAYS_USE_DERP=true</c> (the control server with
/// <c>-readonly-updates-derp</c>) reaches a TsNet node only through derper: the bulk transfer runs byte-exact both
/// ways, <c>tailscale ping</c> pongs come back through DERP, and the node's status shows <c>derp test</c>.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsDerpOnlyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(20);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(90) + TestScale.Bound(TimeSpan.FromSeconds(90));

    private static TimeSpan TransferTimeout => TestScale.Bound(TimeSpan.FromSeconds(60));

    [TailscaleFact]
    public async Task DerpOnlyTailscaled_BulkBothWaysByteExact_OverDerp_StatusShowsDerpTest()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: true, bound.Token);
        var (node, daemon, daemonKey) = await rig.UpTsNetAndTailscaledAsync(derpOnly: true, bound.Token);
        var http = await rig.StartTailnetHttpAsync(node, bound.Token);

        var pongs = await TailscalePong.PingAsync(daemon, "tsnode", 3, TimeSpan.FromSeconds(3), cancellationToken: bound.Token);
        _log.Write($"MEASURED tailscaled(DERP only)→TsNet pongs: {string.Join(" | ", pongs.Select(p => p.Via + " " + p.Latency))}");
        pongs.Should().NotBeEmpty("the TsNet node answers disco pings that come through DERP")
            .And.OnlyContain(p => p.Via == PathsRig.DerpPongVia);

        var curl = rig.CurlVia(daemon);
        var bytes = PathsRig.TransferBytes;
        await using var watch = TransferWatch.Start(_log, TimeSpan.FromSeconds(10), (node, daemonKey));
        var download = await curl.DownloadAsync("tsnode.tail.test", http.Port, bytes, 201, TransferTimeout, cancellationToken: bound.Token);
        rig.LogStatus("after the download", node, daemonKey);
        var upload = await curl.UploadAsync("tsnode.tail.test", http.Port, bytes, 202, TransferTimeout, bound.Token);
        rig.LogStatus("after the upload", node, daemonKey);
        download.ByteExact.Should().BeTrue(download.Describe());
        upload.ByteExact.Should().BeTrue(upload.Describe());
        http.Errors.Should().BeEmpty();

        var (path, _) = await rig.WaitForPathAsync(node, daemonKey, p => p == PathsRig.DerpPath, PathTimeout, "through DERP", bound.Token);
        path.Should().Be(PathsRig.DerpPath);
        var status = node.Server.GetStatus();
        status.HomeDerpRegion.Should().Be(PathsRig.RegionId);
        var peer = status.Peers.Single(entry => entry.PublicKey == daemonKey);
        peer.RxBytes.Should().BeGreaterThan(bytes, "the upload came in through DERP");
        peer.TxBytes.Should().BeGreaterThan(bytes, "the download went out through DERP");
        var seen = (await daemon.StatusJsonAsync(cancellationToken: bound.Token)).FindPeer("tsnode")!;
        seen.CurAddr.Should().BeEmpty("tailscaled is DERP only");
        seen.Relay.Should().Be(PathsRig.RegionCode, "tailscaled knows the TsNet node's home region");
        _log.Write($"MEASURED TsNet↔tailscaled DERP only, {TestScale.Describe(bytes)}: download (TsNet sends) {download.Mbps:0.0} Mbit/s, upload (TsNet receives) {upload.Mbps:0.0} Mbit/s");
        rig.Complete();
    }
}
