using TsNet.Tool.Cli;

namespace TsNet.Tests.Tool;

/// <summary><c>tsnet status</c>, <c>ping</c> and <c>whois</c> on the command line: help, usage errors (exit 2), the top-level list.</summary>
public sealed class LocalApiCliTests
{
    [Theory]
    [InlineData("status", "usage: tsnet status [--json] [--socket PATH | --state DIR]")]
    [InlineData("ping", "usage: tsnet ping NAME|IP [-c N] [--socket PATH | --state DIR]")]
    [InlineData("whois", "usage: tsnet whois IP[:PORT] [--json] [--socket PATH | --state DIR]")]
    public async Task Help_Exit0(string command, string usage)
    {
        var run = await RunAsync(command, "--help");

        run.ExitCode.Should().Be(ExitCodes.Success);
        run.Output.Should().StartWith(usage + "\n").And.Contain("--socket PATH").And.Contain("--state DIR").And.Contain("-h, --help");
    }

    [Fact]
    public async Task TopLevelHelp_ListsTheCommands_AndUpTakesSocket()
    {
        var top = await RunAsync("--help");
        var up = await RunAsync("up", "--help");

        top.Output.Should().Contain("  status ").And.Contain("  ping ").And.Contain("  whois ");
        up.Output.Should().Contain("--socket PATH");
    }

    [Theory]
    [InlineData("tsnet status: --socket and --state exclude each other: give the socket path, or the state directory that holds it", "status", "--socket", "/tmp/x.sock", "--state", "/tmp")]
    [InlineData("tsnet status: unexpected argument 'db'", "status", "db")]
    [InlineData("tsnet ping: missing NAME|IP", "ping")]
    [InlineData("tsnet ping: -c 0: expected a count from 1 to 100", "ping", "db", "-c", "0")]
    [InlineData("tsnet ping: -c many: expected a count from 1 to 100", "ping", "db", "-c", "many")]
    [InlineData("tsnet ping: 'no way' is neither a peer name nor an IP address", "ping", "no way")]
    [InlineData("tsnet whois: missing IP[:PORT]", "whois")]
    [InlineData("tsnet whois: 'db' is not IP or IP:PORT (IPv6 with a port in brackets: [fd7a::1]:80)", "whois", "db")]
    public async Task UsageErrors_Exit2_WithUsage(string message, params string[] args)
    {
        var run = await RunAsync(args);

        run.ExitCode.Should().Be(ExitCodes.Usage);
        run.Error.Should().StartWith(message + "\n\nusage: tsnet " + args[0]);
        run.Output.Should().BeEmpty();
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var exitCode = await TsNetCli.RunAsync(args, new CliConsole(new StringReader(string.Empty), output, error), CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }
}
