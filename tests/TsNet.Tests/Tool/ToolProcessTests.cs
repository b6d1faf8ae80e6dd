namespace TsNet.Tests.Tool;

/// <summary>The built <c>tsnet</c> as a child process: the demo end to end, and a usage error's exit code.</summary>
public sealed class ToolProcessTests
{
    // The demo needs well under a second; this bounds a loaded CI machine (and the demo's own 30 s timeout).
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Demo_FetchesOverTheTailnet_PrintsTheStatusTable_Exit0()
    {
        var (exitCode, stdout, stderr) = await ToolProcess.RunAsync(Bound, "demo");

        exitCode.Should().Be(0, $"stdout:\n{stdout}\nstderr:\n{stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().StartWith("tsnet demo: ");
        lines.Should().Contain(l => l.StartsWith("node-a: started, tailnet 100.64.0.1, fd7a:115c:a1e0::1, UDP port ", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("node-b: ping 100.64.0.1: reply in ", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("node-b: GET http://node-a/hello.txt -> 200 OK, 42 bytes", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("node-b: PUT http://node-a/sink with 1048576 random bytes -> 200 OK", StringComparison.Ordinal));
        lines.Should().Contain("node-b: the SHA-256 node-a computed matches the uploaded bytes");
        lines.Should().Contain(l => l.StartsWith("node    peer    endpoint", StringComparison.Ordinal));
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^node-a  node-b  127\.0\.0\.1:[0-9]+ +established +[0-9.]+ s ago +[1-9][0-9]* +[1-9][0-9]*$"));
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^node-b  node-a  127\.0\.0\.1:[0-9]+ +established "));
        lines[^1].Should().Be("demo ok");
    }

    [Fact]
    public async Task UnknownCommand_Exit2_UsageOnStderr()
    {
        var (exitCode, stdout, stderr) = await ToolProcess.RunAsync(Bound, "frobnicate");

        exitCode.Should().Be(2);
        stdout.Should().BeEmpty();
        stderr.Should().Contain("unknown command 'frobnicate'").And.Contain("usage: tsnet <command>");
    }
}
