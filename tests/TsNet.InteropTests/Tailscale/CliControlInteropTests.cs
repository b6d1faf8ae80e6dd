using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// <c>tsnet up --login-server</c> (the built tool as a child process) against Tailscale's own
/// <c>testcontrol-server</c> (v1.36.2): with an auth key it prints <c>ready … name=cli1.tail.test</c> and serves a file
/// that another TsNet node on the tailnet fetches by name; a wrong key exits 1 with the server's message; with
/// <c>-require-auth</c> it prints <c>login url=</c>, a GET of that URL completes the login, then <c>ready</c>. No root.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed partial class CliControlInteropTests(ITestOutputHelper output)
{
    private const int HttpPort = 8080;
    private const int FileBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(20);

    private readonly TestLog _log = new(output);

    [TailscaleFact]
    public async Task UpWithAuthKey_ReadyByName_ServesAFileByteExactToAnotherNode_StopsCleanly()
    {
        using var bound = new CancellationTokenSource(Bound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await CliInteropSupport.StartControlAsync(workDir);
        var www = workDir.File("www");
        Directory.CreateDirectory(www);
        var content = RandomNumberGenerator.GetBytes(FileBytes);
        await File.WriteAllBytesAsync(Path.Combine(www, "file.bin"), content, bound.Token);

        await using var tool = TsNetTool.Start(new ProcessRunner(_log), [
            "up", "--login-server", control.Url, "--authkey", "tskey-cli-1", "--hostname", "cli1", "--state", workDir.File("cli1-state"),
            "--http", HttpPort.ToString(CultureInfo.InvariantCulture), "--www", www,
        ]);
        var ready = await tool.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), CliInteropSupport.JoinTimeout, bound.Token);
        ready.Should().NotBeNull(CliInteropSupport.Describe(tool));
        var match = ReadyLine().Match(ready!);
        match.Success.Should().BeTrue($"'{ready}' has the api.md form");
        match.Groups["name"].Value.Should().Be("cli1." + CliInteropSupport.Domain);
        var cliAddress = match.Groups["v4"].Value;
        var registered = (await control.Admin.GetNodesAsync(bound.Token)).Should().ContainSingle(n => n.Hostname == "cli1").Subject;
        registered.Addresses.Should().Contain(cliAddress + "/32", "the ready line shows the address the server assigned");
        registered.NodeKey.Should().EndWith(Convert.ToHexStringLower(Convert.FromBase64String(match.Groups["key"].Value)), "publickey= is the node key");

        await using (var fetcher = await CliInteropSupport.JoinAsync(control, "fetcher", "tskey-fetcher", _log, bound.Token))
        {
            using var http = fetcher.CreateHttpClient();
            http.Timeout = TimeSpan.FromSeconds(60);
            foreach (var name in new[] { "cli1", "cli1." + CliInteropSupport.Domain })
            {
                var fetched = await http.GetByteArrayAsync(new Uri($"http://{name}:{HttpPort}/file.bin"), bound.Token);
                fetched.Length.Should().Be(FileBytes, name);
                fetched.AsSpan().SequenceEqual(content).Should().BeTrue($"GET http://{name}:{HttpPort}/file.bin returns the file byte for byte");
            }
        }

        (await tool.StopAsync(StopGrace)).Should().BeTrue("SIGTERM stops the tool");
        tool.ExitCode.Should().Be(0, CliInteropSupport.Describe(tool));
        CliInteropSupport.StandardOutput(tool).Should().Equal([ready!], "stdout carries the ready line only");
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task UpWithAWrongKey_Exit1_TheServersMessageOnOneLine()
    {
        using var bound = new CancellationTokenSource(Bound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await CliInteropSupport.StartControlAsync(workDir, new TestControlServerOptions { AuthKeys = ["tskey-good"] });

        await using var tool = TsNetTool.Start(new ProcessRunner(_log), [
            "up", "--login-server", control.Url, "--authkey", "tskey-wrong", "--hostname", "cli2", "--ephemeral", "--echo", "7",
        ]);
        var exitCode = await tool.WaitForExitAsync(CliInteropSupport.JoinTimeout, bound.Token);

        exitCode.Should().Be(1, CliInteropSupport.Describe(tool));
        CliInteropSupport.StandardOutput(tool).Should().BeEmpty("the node never became ready");
        var prefix = $"!tsnet up: {new Uri(control.Url).AbsoluteUri} refused the login: ";
        var refusal = tool.Lines.Should().ContainSingle(l => l.StartsWith(prefix, StringComparison.Ordinal), CliInteropSupport.Describe(tool)).Subject;
        refusal.Length.Should().BeGreaterThan(prefix.Length, "the server's message follows");
        _log.Write($"the refusal as printed: {refusal[1..]}");
        tool.Lines.Should().NotContain(l => l.TrimStart('!').StartsWith("   at ", StringComparison.Ordinal), "no stack trace");
        tool.Lines.Where(l => l.Contains("refused", StringComparison.Ordinal)).Should().Equal([refusal], "the refusal is reported once, not again by the library's log");
        (await control.Admin.GetNodesAsync(bound.Token)).Should().BeEmpty("the server created no node for the wrong key");
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task UpWithoutAKey_PrintsTheLoginUrl_AGetCompletesTheLogin_ThenReady()
    {
        using var bound = new CancellationTokenSource(Bound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await CliInteropSupport.StartControlAsync(workDir, new TestControlServerOptions { RequireAuth = true });

        // No --authkey and no TS_AUTHKEY (the tool inherits this environment): an interactive login.
        Environment.GetEnvironmentVariable("TS_AUTHKEY").Should().BeNullOrEmpty("the test runs the interactive path");
        await using var tool = TsNetTool.Start(new ProcessRunner(_log), [
            "up", "--login-server", control.Url, "--hostname", "cli3", "--state", workDir.File("cli3-state"), "--echo", "7",
        ]);
        var login = await tool.WaitForLineAsync(l => l.StartsWith("login url=", StringComparison.Ordinal), CliInteropSupport.JoinTimeout, bound.Token);
        login.Should().NotBeNull(CliInteropSupport.Describe(tool));
        var authUrl = login!["login url=".Length..];
        (await control.Admin.GetPendingAuthAsync(bound.Token)).Should().ContainSingle(p => p.URL == authUrl && p.Hostname == "cli3", "the printed URL is the pending login");
        tool.HasExited.Should().BeFalse("the node waits for the login");

        await control.Admin.CompleteAuthAsync(authUrl, bound.Token);
        var ready = await tool.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), CliInteropSupport.JoinTimeout, bound.Token);

        ready.Should().NotBeNull(CliInteropSupport.Describe(tool));
        ReadyLine().Match(ready!).Groups["name"].Value.Should().Be("cli3." + CliInteropSupport.Domain);
        CliInteropSupport.StandardOutput(tool).Should().Equal([login, ready!], "exactly one login line, then the ready line");
        (await tool.StopAsync(StopGrace)).Should().BeTrue();
        tool.ExitCode.Should().Be(0, CliInteropSupport.Describe(tool));
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task UpEphemeralWithTags_RegistersSo_AndIsGoneAfterSigterm()
    {
        using var bound = new CancellationTokenSource(Bound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        // A long grace: the node must be gone because it logged out, not because the server timed it out.
        await using var control = await CliInteropSupport.StartControlAsync(workDir, new TestControlServerOptions { EphemeralGrace = TimeSpan.FromMinutes(10) });

        await using var tool = TsNetTool.Start(new ProcessRunner(_log), [
            "up", "--login-server", control.Url, "--authkey", "tskey-cli-4", "--hostname", "cli4", "--ephemeral", "--advertise-tags", "tag:web,tag:ci",
        ]);
        var ready = await tool.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), CliInteropSupport.JoinTimeout, bound.Token);
        ready.Should().NotBeNull(CliInteropSupport.Describe(tool));

        var registered = (await control.Admin.GetNodesAsync(bound.Token)).Should().ContainSingle(n => n.Hostname == "cli4").Subject;
        registered.Ephemeral.Should().BeTrue("--ephemeral registers an ephemeral node");
        registered.User.Should().Be("tagged-devices", "a node registered with tags belongs to the server's tagged-devices user");

        (await tool.StopAsync(StopGrace)).Should().BeTrue();
        tool.ExitCode.Should().Be(0, CliInteropSupport.Describe(tool));
        (await control.Admin.GetNodesAsync(bound.Token)).Should().NotContain(n => n.Hostname == "cli4", "stopping an ephemeral node logs it out, so the server removes it at once");
        workDir.Complete();
    }

    [GeneratedRegex("^ready address=(?<v4>100\\.64\\.0\\.[0-9]+)(,(?<v6>[0-9a-f:]+))? port=(?<port>[0-9]+) publickey=(?<key>[A-Za-z0-9+/]{43}=) name=(?<name>[a-z0-9.-]+)$")]
    private static partial Regex ReadyLine();
}
