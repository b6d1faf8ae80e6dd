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
    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(60);

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
}
