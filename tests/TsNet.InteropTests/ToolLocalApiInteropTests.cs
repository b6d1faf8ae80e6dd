using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// <c>tsnet up --socket PATH</c> as a child process with the stock wireguard-go (the Linux kernel behind it) as its
/// peer, and <c>tsnet status --json</c>, <c>tsnet ping</c> and <c>tsnet whois</c> as further processes asking it over
/// the Unix socket: the kernel answers the pings, the status and whois name the wireguard-go peer; on SIGTERM the
/// socket file goes.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // Unix sockets and file modes are the point
[Collection(InteropCollection.Name)]
public sealed partial class ToolLocalApiInteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";

    private static readonly TimeSpan TestBound = TestScale.Bound(TimeSpan.FromSeconds(120));
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly ITestOutputHelper _output;
    private readonly ProcessRunner _runner;

    public ToolLocalApiInteropTests(ITestOutputHelper output)
    {
        InteropEnvironment.EnsureReady();
        _output = output;
        _runner = new ProcessRunner(new TestLog(output));
    }

    /// <summary>status --json lists the peer with its direct path; ping gets the kernel's replies; whois names the key.</summary>
    [InteropFact]
    public async Task TsNetUp_AnswersStatusPingAndWhoIs_OverItsSocket()
    {
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var socket = dir.File("tsnet.sock");
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();
        var nodeKey = WireGuardKey.Generate();
        var config = dir.File("wg0.conf");
        await File.WriteAllTextAsync(
            config,
            $"""
            [Interface]
            PrivateKey = {nodeKey}
            Address = {NodeAddress}/32

            [Peer]
            # Name = linux
            PublicKey = {wgPub}
            Endpoint = 127.0.0.1:{wgPort}
            AllowedIPs = {WgAddress}/32
            """,
            bound.Token);

        await using var tool = TsNetTool.Start(_runner, ["up", "--config", config, "--socket", socket]);
        var ready = await tool.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), ReadyTimeout, bound.Token);
        ready.Should().NotBeNull($"tsnet up prints its ready line:\n{string.Join('\n', tool.Lines)}");
        var nodePort = int.Parse(PortOf().Match(ready!).Groups["port"].Value, CultureInfo.InvariantCulture);
        File.GetUnixFileMode(socket).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "the socket is 0600 once the node is ready");

        await using var wg = await WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = WgAddress + "/24",
                ListenPort = wgPort,
                PrivateKey = wgKey,
                PeerPublicKey = nodeKey.PublicKey.ToString(),
                PeerEndpoint = "127.0.0.1:" + nodePort.ToString(CultureInfo.InvariantCulture),
                PeerAllowedIps = [NodeAddress + "/32"],
                Output = _output,
            },
            bound.Token);

        var ping = await RunToolAsync("ping", "linux", "-c", "3", "--socket", socket);
        ping.ExitCode.Should().Be(0, "the Linux kernel behind wireguard-go answers: " + ping);
        var pongs = ping.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        pongs.Should().NotBeEmpty().And.AllSatisfy(l => l.Should().MatchRegex($"^pong from linux \\({Regex.Escape(WgAddress)}\\) via direct 127\\.0\\.0\\.1:{wgPort} in [0-9]+\\.[0-9] ms$"));

        var status = await RunToolAsync("status", "--json", "--socket", socket);
        status.ExitCode.Should().Be(0, status.ToString());
        var parsed = JsonSerializer.Deserialize(status.StandardOutput, TailnetJson.Status)!;
        parsed.PublicKey.Should().Be(nodeKey.PublicKey);
        var peer = parsed.Peers.Should().ContainSingle().Subject;
        peer.Name.Should().Be("linux");
        peer.Path.Should().Be($"direct 127.0.0.1:{wgPort}");
        peer.SessionState.Should().Be("established");
        peer.RxBytes.Should().BePositive();

        var table = await RunToolAsync("status", "--socket", socket);
        table.StandardOutput.Should().MatchRegex($"\nlinux +{Regex.Escape(WgAddress)} +direct 127\\.0\\.0\\.1:{wgPort} +[0-9.]+ s ago +[0-9]+ +[0-9]+\n");

        var whois = await RunToolAsync("whois", WgAddress + ":80", "--socket", socket);
        whois.ExitCode.Should().Be(0, whois.ToString());
        whois.StandardOutput.Should().Contain($"node key: {wgPub}\n").And.Contain($"addresses: {WgAddress}\n");
        var unknown = await RunToolAsync("whois", "100.64.0.99", "--socket", socket);
        unknown.ExitCode.Should().Be(1, "no peer has that address: " + unknown);

        NativeMethods.Terminate(tool.Id).Should().BeTrue();
        (await tool.WaitForExitAsync(TimeSpan.FromSeconds(10), bound.Token)).Should().Be(0);
        File.Exists(socket).Should().BeFalse("tsnet up deletes its socket on exit");
        var gone = await RunToolAsync("status", "--socket", socket);
        gone.ExitCode.Should().Be(1);
        gone.StandardError.Should().Contain("no node answers on " + socket);
    }

    private Task<CommandResult> RunToolAsync(params string[] args) =>
        _runner.RunAsync(TsNetTool.DotnetHost, [TsNetTool.DllPath, .. args], CommandTimeout);

    [GeneratedRegex(" port=(?<port>[0-9]+) ")]
    private static partial Regex PortOf();
}
