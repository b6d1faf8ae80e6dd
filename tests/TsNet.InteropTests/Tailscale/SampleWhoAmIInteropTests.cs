using System.Text.Json;
using System.Text.RegularExpressions;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// <c>samples/TailnetWhoAmI</c> (built, run as a child process) joins the tailnet of Tailscale's own
/// <c>testcontrol-server</c> with <c>TSNET_CONTROL_URL</c>/<c>TS_AUTHKEY</c>; another TsNet node fetches <c>/</c> by
/// name and is told who it is (its node name, host name, user, addresses), as text and as JSON; <c>/admin</c> refuses
/// it (not an admin by tailnet identity) and <c>/healthz</c> reports the node healthy. No root.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class SampleWhoAmIInteropTests(ITestOutputHelper output)
{
    private const string Sample = "TailnetWhoAmI";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(240);

    private readonly TestLog _log = new(output);

    [TailscaleFact]
    public async Task WhoAmI_TellsAnotherNodeWhoItIs()
    {
        using var bound = new CancellationTokenSource(Bound);
        var runner = new ProcessRunner(_log);
        var dll = await EnsureBuiltAsync(runner, bound.Token);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await CliInteropSupport.StartControlAsync(workDir);

        await using var sample = runner.Start(TsNetTool.DotnetHost, [dll], new Dictionary<string, string>
        {
            ["TSNET_CONTROL_URL"] = control.Url,
            ["TS_AUTHKEY"] = "tskey-whoami",
            ["TSNET_HOSTNAME"] = "whoami",
            ["TSNET_EPHEMERAL"] = "true",
            ["TSNET_PORT"] = "8080",
        }, Sample);
        var serving = await sample.WaitForLineAsync(l => l.StartsWith("whoami on ", StringComparison.Ordinal), CliInteropSupport.JoinTimeout, bound.Token);
        serving.Should().NotBeNull(CliInteropSupport.Describe(sample));
        serving.Should().StartWith($"whoami on http://whoami.{CliInteropSupport.Domain}:8080/ (100.64.0.");

        await using var caller = await CliInteropSupport.JoinAsync(control, "caller1", "tskey-caller", _log, bound.Token);
        using var http = caller.CreateHttpClient();
        http.Timeout = TimeSpan.FromSeconds(60);
        var text = await http.GetStringAsync(new Uri("http://whoami:8080/any/path"), bound.Token);
        _log.Write("GET http://whoami:8080/any/path ->\n" + text);

        var callerName = $"caller1.{CliInteropSupport.Domain}";
        var callerAddresses = string.Join(", ", caller.Addresses.OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 1 : 0));
        text.Should().Contain($"node name:    {callerName}\n")
            .And.Contain("host name:    caller1\n")
            .And.Contain($"node key:     {caller.PublicKey}\n")
            .And.Contain($"addresses:    {callerAddresses}\n");
        text.Should().MatchRegex(new Regex("login name:   user-[0-9]+@fake-control\\.example\\.net\n"), "the test server makes a user per node key and sends its profile");

        var json = await http.GetStringAsync(new Uri($"http://whoami.{CliInteropSupport.Domain}:8080/?format=json"), bound.Token);
        using (var document = JsonDocument.Parse(json))
        {
            document.RootElement.GetProperty("nodeName").GetString().Should().Be(callerName, json);
            document.RootElement.GetProperty("hostName").GetString().Should().Be("caller1", json);
            document.RootElement.GetProperty("nodeKey").GetString().Should().Be(caller.PublicKey.ToString(), json);
        }

        // The authorization example: /admin only for WhoAmI:Admins (alice@example.com, tag:ops by default), not caller1's user.
        using (var admin = await http.GetAsync(new Uri("http://whoami:8080/admin"), bound.Token))
        {
            var body = await admin.Content.ReadAsStringAsync(bound.Token);
            admin.StatusCode.Should().Be(System.Net.HttpStatusCode.Forbidden, body);
            body.Should().Contain("may not call this; allowed: alice@example.com, tag:ops");
        }

        (await http.GetStringAsync(new Uri("http://whoami:8080/healthz"), bound.Token)).Should().Be("Healthy", "on the tailnet and connected to the control server");

        (await sample.StopAsync(TimeSpan.FromSeconds(20))).Should().BeTrue();
        sample.ExitCode.Should().Be(0, CliInteropSupport.Describe(sample));
        workDir.Complete();
    }

    /// <summary>The sample's dll; built first when only the test projects were built.</summary>
    private static async Task<string> EnsureBuiltAsync(ProcessRunner runner, CancellationToken cancellationToken)
    {
        var root = TsNet.TestSupport.RepositoryPaths.Root;
        var configuration = TsNet.TestSupport.RepositoryPaths.Configuration;
        var dll = Path.Combine(root, "samples", Sample, "bin", configuration, "net10.0", Sample + ".dll");
        if (!File.Exists(dll))
        {
            var build = await runner.RunAsync(TsNetTool.DotnetHost, ["build", Path.Combine(root, "samples", Sample), "-c", configuration, "--nologo"], TimeSpan.FromMinutes(4), cancellationToken: cancellationToken);
            build.ExitCode.Should().Be(0, build.ToString());
        }

        return dll;
    }
}
