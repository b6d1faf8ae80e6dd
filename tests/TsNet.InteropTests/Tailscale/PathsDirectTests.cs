using System.Net;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Issue 12, interop test 1: a TsNet node and a real tailscaled find a direct UDP path (disco over DERP first, then
/// pings to the netmap's endpoints). The bulk transfer runs byte-exact both ways between the node's HTTP service and
/// curl through tailscaled's SOCKS5 server by the node's DNS name; <c>tailscale ping</c> ends with a direct pong; the
/// node's status shows <c>direct &lt;ip:port&gt;</c> to tailscaled's port and its home region.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsDirectTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(20);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(90) + TestScale.Bound(TimeSpan.FromSeconds(60));

    private static TimeSpan TransferTimeout => TestScale.Bound(TimeSpan.FromSeconds(45));

    [TailscaleFact]
    public async Task TsNetAndTailscaled_DirectPath_BulkBothWaysByteExact_PingEndsDirect_StatusDirect()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: false, bound.Token);
        var (node, daemon, daemonKey) = await rig.UpTsNetAndTailscaledAsync(derpOnly: false, bound.Token);
        var http = await rig.StartTailnetHttpAsync(node, bound.Token);

        // tailscale ping stops at the first direct pong: its last pong is direct, to the TsNet node's own UDP port.
        var pongs = await TailscalePong.PingAsync(daemon, "tsnode", 10, TimeSpan.FromSeconds(5), cancellationToken: bound.Token);
        _log.Write($"MEASURED tailscaled→TsNet pongs: {string.Join(" | ", pongs.Select(p => p.Via + " " + p.Latency))}");
        pongs.Should().NotBeEmpty("the TsNet node answers disco pings");
        pongs[^1].IsDirect.Should().BeTrue($"the last pong is direct, not {pongs[^1].Via}");
        IPEndPoint.Parse(pongs[^1].Via).Port.Should().Be(node.Server.ListenPort, "the pong came from the TsNet node's UDP socket");

        var (path, untilDirect) = await rig.WaitForPathAsync(node, daemonKey, PathsRig.IsDirectPath, PathTimeout, "direct", bound.Token);
        _log.Write($"MEASURED TsNet→tailscaled direct path in status {untilDirect.TotalSeconds:0.0} s after the ping: {path}");
        IPEndPoint.Parse(path["direct ".Length..]).Port.Should().Be(daemon.Port, "direct to tailscaled's --port");

        var curl = rig.CurlVia(daemon);
        var bytes = PathsRig.TransferBytes;
        await using var watch = TransferWatch.Start(_log, TimeSpan.FromSeconds(10), (node, daemonKey));
        var download = await curl.DownloadAsync("tsnode.tail.test", http.Port, bytes, 101, TransferTimeout, cancellationToken: bound.Token);
        rig.LogStatus("after the download", node, daemonKey);
        var upload = await curl.UploadAsync("tsnode.tail.test", http.Port, bytes, 102, TransferTimeout, bound.Token);
        rig.LogStatus("after the upload", node, daemonKey);
        download.ByteExact.Should().BeTrue(download.Describe());
        upload.ByteExact.Should().BeTrue(upload.Describe());
        http.Errors.Should().BeEmpty();

        var status = node.Server.GetStatus();
        var peer = status.Peers.Single(entry => entry.PublicKey == daemonKey);
        PathsRig.IsDirectPath(peer.Path ?? string.Empty).Should().BeTrue($"the transfer kept the direct path, not {peer.Path}");
        peer.RxBytes.Should().BeGreaterThan(bytes, "the upload came in over WireGuard");
        peer.TxBytes.Should().BeGreaterThan(bytes, "the download went out over WireGuard");
        status.HomeDerpRegion.Should().Be(PathsRig.RegionId, "the one region of the DERP map is the node's home");
        var seen = (await daemon.StatusJsonAsync(cancellationToken: bound.Token)).FindPeer("tsnode")!;
        seen.CurAddr.Should().NotBeEmpty("tailscaled also uses the direct path");
        _log.Write($"MEASURED TsNet↔tailscaled direct, {TestScale.Describe(bytes)}: download (TsNet sends) {download.Mbps:0.0} Mbit/s, upload (TsNet receives) {upload.Mbps:0.0} Mbit/s; paths: TsNet {peer.Path}, tailscaled {seen.CurAddr}");
        rig.Complete();
    }
}
