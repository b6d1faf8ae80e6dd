using System.Diagnostics;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Proves the paths harness with two real <c>tailscaled</c>s (no TsNet code): curl through SOCKS5 moves the bulk
/// transfer byte-exact both ways, the nft UDP block turns their direct path into DERP and back, a DERP-only daemon
/// keeps its normal peer on DERP, and a restarted derper carries a DERP-only pair's traffic again. So when a TsNet
/// node takes one side in the <c>Paths*Tests</c>, only TsNet can be wrong.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsHarnessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(30);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(90) + TestScale.Bound(TimeSpan.FromSeconds(30));

    private static TimeSpan TransferTimeout => TestScale.Bound(TimeSpan.FromSeconds(45));

    [TailscaleFact]
    public async Task TwoTailscaleds_Socks5Curl_BulkBothWays_ByteExact_OverTheirDirectPath()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: false, bound.Token);
        var (ts1, ts2) = await UpPairAsync(rig, ts1DerpOnly: false, bound.Token);
        var http = rig.StartHostHttp();
        var (pong, untilDirect) = await TailscalePong.WaitForAsync(ts1, "node2", p => p.IsDirect, PathTimeout, "over a direct path", bound.Token);
        _log.Write($"MEASURED tailscaled→tailscaled first direct pong after {untilDirect.TotalSeconds:0.0} s: {pong.Line}");

        var curl = rig.CurlVia(ts1);
        var bytes = PathsRig.TransferBytes;
        var download = await curl.DownloadAsync("node2.tail.test", http.Port, bytes, 31, TransferTimeout, cancellationToken: bound.Token);
        var upload = await curl.UploadAsync("node2.tail.test", http.Port, bytes, 32, TransferTimeout, bound.Token);

        download.ByteExact.Should().BeTrue(download.Describe());
        upload.ByteExact.Should().BeTrue(upload.Describe());
        http.Exchanges.Should().HaveCount(2, "one GET and one POST reached the host service through node2");
        var peer = (await ts1.StatusJsonAsync(cancellationToken: bound.Token)).FindPeer("node2")!;
        peer.CurAddr.Should().NotBeEmpty("the transfer ran over the direct path");
        _log.Write($"MEASURED tailscaled↔tailscaled direct, {TestScale.Describe(bytes)}: download {download.Mbps:0.0} Mbit/s, upload {upload.Mbps:0.0} Mbit/s (path {peer.CurAddr})");
        rig.Complete();
    }

    [TailscaleFact]
    public async Task NftUdpBlock_TurnsTheirDirectPingIntoDerp_AndRemovingItReturnsDirect()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: false, bound.Token);
        var (ts1, ts2) = await UpPairAsync(rig, ts1DerpOnly: false, bound.Token);
        await TailscalePong.WaitForAsync(ts1, "node2", p => p.IsDirect, PathTimeout, "over a direct path", bound.Token);

        await using (var block = await rig.BlockUdpAsync(ts1.Port, ts2.Port, bound.Token))
        {
            var (derpPong, untilDerp) = await TailscalePong.WaitForAsync(ts1, "node2", p => p.IsDerp, PathTimeout, "through DERP", bound.Token);
            derpPong.Via.Should().Be(PathsRig.DerpPongVia);
            (await block.GetDroppedPacketsAsync(bound.Token)).Should().BePositive("the rule matched their direct UDP");
            _log.Write($"MEASURED tailscaled→tailscaled first DERP pong {untilDerp.TotalSeconds:0.0} s after the block");

            // Still cut: a burst of pings never comes back direct.
            var pongs = await TailscalePong.PingAsync(ts1, "node2", 3, TimeSpan.FromSeconds(2), cancellationToken: bound.Token);
            pongs.Should().NotBeEmpty().And.OnlyContain(p => p.IsDerp, "the direct path is blocked");
            await block.RemoveAsync();
        }

        var (directPong, untilDirect) = await TailscalePong.WaitForAsync(ts1, "node2", p => p.IsDirect, PathTimeout, "direct again", bound.Token);
        _log.Write($"MEASURED tailscaled→tailscaled direct again {untilDirect.TotalSeconds:0.0} s after the block went: {directPong.Line}");
        rig.Complete();
    }

    [TailscaleFact]
    public async Task DerpOnlyTailscaled_KeepsItsNormalPeerOnDerp_AndCarriesTheBulkTransfer()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: true, bound.Token);
        var (ts1, ts2) = await UpPairAsync(rig, ts1DerpOnly: true, bound.Token);
        var http = rig.StartHostHttp();

        // The normal side (ts2) must never find a direct path to the DERP-only one: what test 2 needs of tailscaled.
        var fromNormal = await TailscalePong.PingAsync(ts2, "node1", 4, TimeSpan.FromSeconds(3), cancellationToken: bound.Token);
        var fromDerpOnly = await TailscalePong.PingAsync(ts1, "node2", 2, TimeSpan.FromSeconds(3), cancellationToken: bound.Token);
        fromNormal.Should().NotBeEmpty().And.OnlyContain(p => p.Via == PathsRig.DerpPongVia);
        fromDerpOnly.Should().NotBeEmpty().And.OnlyContain(p => p.Via == PathsRig.DerpPongVia);

        var bytes = PathsRig.TransferBytes;
        var download = await rig.CurlVia(ts2).DownloadAsync("node1.tail.test", http.Port, bytes, 41, TransferTimeout, cancellationToken: bound.Token);
        download.ByteExact.Should().BeTrue(download.Describe());
        var seenByNormal = (await ts2.StatusJsonAsync(cancellationToken: bound.Token)).FindPeer("node1")!;
        seenByNormal.CurAddr.Should().BeEmpty("no direct path to a DERP-only node");
        seenByNormal.Relay.Should().Be(PathsRig.RegionCode);
        (await ts1.StatusJsonAsync(cancellationToken: bound.Token)).FindPeer("node2")!.CurAddr.Should().BeEmpty();
        _log.Write($"MEASURED tailscaled↔tailscaled DERP only, {TestScale.Describe(bytes)} download: {download.Mbps:0.0} Mbit/s");
        rig.Complete();
    }

    [TailscaleFact]
    public async Task DerperRestartedOnItsPorts_DerpOnlyPairCarriesTrafficAgainWithin15s()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: true, bound.Token);
        var (_, ts2) = await UpPairAsync(rig, ts1DerpOnly: true, bound.Token);
        var http = rig.StartHostHttp();
        var curl = rig.CurlVia(ts2);
        (await curl.DownloadAsync("node1.tail.test", http.Port, 100_000, 51, TimeSpan.FromSeconds(10), cancellationToken: bound.Token))
            .ByteExact.Should().BeTrue("the pair talks over DERP before the restart");
        var (tlsPort, stunPort, pid) = (rig.Derp.TlsPort, rig.Derp.StunPort, rig.Derp.Process.Id);

        var sinceStop = Stopwatch.StartNew();
        await rig.Derp.RestartAsync(bound.Token);
        var restartTook = sinceStop.Elapsed;

        rig.Derp.Process.Id.Should().NotBe(pid, "a new derper process");
        (rig.Derp.TlsPort, rig.Derp.StunPort).Should().Be((tlsPort, stunPort));
        var recovery = await PathsTraffic.WaitForSmallDownloadAsync(curl, "node1.tail.test", http.Port, PathsTraffic.DerpRecoveryBound + TimeSpan.FromSeconds(15), bound.Token);
        _log.Write($"MEASURED tailscaled↔tailscaled DERP only: traffic again {recovery.TotalSeconds:0.0} s after the new derper served ({(restartTook + recovery).TotalSeconds:0.0} s after the old one was stopped)");
        recovery.Should().BeLessThanOrEqualTo(PathsTraffic.DerpRecoveryBound);
        rig.Complete();
    }

    private async Task<(Tailscaled Ts1, Tailscaled Ts2)> UpPairAsync(PathsRig rig, bool ts1DerpOnly, CancellationToken cancellationToken)
    {
        var up1 = rig.UpTailscaledAsync("ts1", "node1", ts1DerpOnly, cancellationToken);
        var up2 = rig.UpTailscaledAsync("ts2", "node2", derpOnly: false, cancellationToken);
        var (ts1, ts2) = (await up1, await up2);
        await ts1.WaitForStatusAsync(s => s.FindPeer("node2") is { Online: true }, PeerTimeout, "seeing node2 online", cancellationToken);

        // A DERP-only v1.36.2 daemon holds only read-only map polls, so the server never marks it online; what its
        // peers need is its home region (which -readonly-updates-derp passes on).
        await ts2.WaitForStatusAsync(
            s => s.FindPeer("node1") is { } peer && (ts1DerpOnly ? peer.Relay == PathsRig.RegionCode : peer.Online),
            PeerTimeout,
            ts1DerpOnly ? "seeing node1's home region" : "seeing node1 online",
            cancellationToken);
        _log.Write($"pair up: ts1 UDP {ts1.Port}{(ts1DerpOnly ? " (DERP only)" : string.Empty)}, ts2 UDP {ts2.Port}");
        return (ts1, ts2);
    }
}
