using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Issue 12, interop test 5: two TsNet nodes whose direct UDP is dropped (nft, before either starts) reach each other
/// through the real derper: a byte-exact echo of the bulk transfer by name, and both statuses show <c>derp test</c>.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class PathsTsNetPairTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(20);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(90) + TestScale.Bound(TimeSpan.FromSeconds(60));

    [TailscaleFact]
    public async Task TwoTsNetNodes_DirectUdpDropped_EchoByteExactThroughDerp_BothStatusesDerpTest()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await PathsRig.StartAsync(_log, readonlyUpdatesDerp: false, bound.Token);
        var alpha = rig.AddNode("alpha");
        var beta = rig.AddNode("beta");
        await using var block = await rig.BlockUdpAsync(alpha.Options.ListenPort, beta.Options.ListenPort, bound.Token);
        await Task.WhenAll(alpha.UpAsync(bound.Token), beta.UpAsync(bound.Token));
        await alpha.WaitUntilAsync(_ => alpha.HasPeer(beta.Server.PublicKey), PeerTimeout, "seeing beta", bound.Token);
        await beta.WaitUntilAsync(_ => beta.HasPeer(alpha.Server.PublicKey), PeerTimeout, "seeing alpha", bound.Token);
        await using var echo = await TailnetEchoServer.StartAsync(beta.Server, OverlayPorts.Next(), "beta", _log, bound.Token);

        var bytes = PathsRig.TransferBytes;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using (TransferWatch.Start(_log, TimeSpan.FromSeconds(10), (alpha, beta.Server.PublicKey), (beta, alpha.Server.PublicKey)))
        await using (var connection = await alpha.Server.ConnectTcpAsync($"beta:{echo.Port}", bound.Token))
        {
            var connected = clock.Elapsed;
            var back = await TailnetEchoServer.ExchangeAsync(connection, bytes, 501, bound.Token);
            var seconds = clock.Elapsed.TotalSeconds - connected.TotalSeconds;
            rig.LogStatus("after the echo", alpha, beta.Server.PublicKey);
            rig.LogStatus("after the echo", beta, alpha.Server.PublicKey);
            back.Should().Be(new TransferDigest(bytes, TestData.Sha256(bytes, 501)), "the echo through DERP is byte-exact");
            _log.Write($"MEASURED TsNet↔TsNet DERP only: connect {connected.TotalMilliseconds:0} ms, echo of {TestScale.Describe(bytes)} each way in {seconds:0.00} s = {bytes * 8 / seconds / 1e6:0.0} Mbit/s per direction");
        }

        await rig.WaitForPathAsync(alpha, beta.Server.PublicKey, p => p == PathsRig.DerpPath, PathTimeout, "through DERP", bound.Token);
        await rig.WaitForPathAsync(beta, alpha.Server.PublicKey, p => p == PathsRig.DerpPath, PathTimeout, "through DERP", bound.Token);
        (await block.GetDroppedPacketsAsync(bound.Token)).Should().BePositive("the nodes tried their direct path (disco pings to the netmap's endpoints) and the rule dropped it");
        alpha.Server.GetStatus().HomeDerpRegion.Should().Be(PathsRig.RegionId);
        beta.Server.GetStatus().HomeDerpRegion.Should().Be(PathsRig.RegionId);
        rig.Complete();
    }
}
