using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// <c>tsnet up</c> as a child process (the built tool, from a wg-quick file) against the stock wireguard-go with the
/// Linux kernel behind it: curl in the namespace downloads a 50 MB file from <c>--http</c> and uploads it to
/// <c>/sink</c>; socat talks to <c>--echo</c> and <c>--udp-echo</c>; SIGTERM stops the tool with exit code 0.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed partial class ToolInteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";

    /// <summary>The issue's size for the curl transfers through <c>tsnet up</c>.</summary>
    private const long FileBytes = 50L * 1000 * 1000;

    private static readonly TimeSpan TestBound = TestScale.Bound(TimeSpan.FromSeconds(180));
    private static readonly TimeSpan TransferTimeout = TestScale.Bound(TimeSpan.FromSeconds(90));

    // A build of the tool starts in about a second; 30 s covers a cold, loaded CI machine.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public ToolInteropTests(ITestOutputHelper output)
    {
        // Only constructed when the test is not skipped: under CI=true an unusable machine fails here, loudly.
        InteropEnvironment.EnsureReady();
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    /// <summary>
    /// <c>tsnet up --config wg0.conf --http P --www DIR --echo E --udp-echo U</c>: prints its ready line; Linux curl
    /// GETs 50 MB and PUTs them to /sink (SHA-256 equal both ways); TCP and UDP echo answer; SIGTERM → exit 0.
    /// </summary>
    [InteropFact(Requires = "curl socat")]
    public async Task TsNetUp_ServesCurlDownloadAndUpload_Echoes_StopsCleanlyOnSigterm()
    {
        InteropEnvironment.EnsureTools("curl", "socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var www = dir.File("www");
        Directory.CreateDirectory(www);
        var fileSha = await TestData.CreateFileAsync(Path.Combine(www, "big.bin"), FileBytes, seed: 81, bound.Token);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();
        var nodeKey = WireGuardKey.Generate();
        var (httpPort, echoPort, udpEchoPort) = (OverlayPorts.Next(), OverlayPorts.Next(), OverlayPorts.Next());

        var config = dir.File("wg0.conf");
        await File.WriteAllTextAsync(
            config,
            $"""
            [Interface]
            PrivateKey = {nodeKey}
            Address = {NodeAddress}/32
            DNS = 192.0.2.53

            [Peer]
            # Name = linux
            PublicKey = {wgPub}
            Endpoint = 127.0.0.1:{wgPort}
            AllowedIPs = {WgAddress}/32
            """,
            bound.Token);

        await using var tool = TsNetTool.Start(_runner, [
            "up", "--config", config,
            "--http", Port(httpPort), "--www", www,
            "--echo", Port(echoPort),
            "--udp-echo", Port(udpEchoPort),
        ]);
        var ready = await tool.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), ReadyTimeout, bound.Token);
        ready.Should().NotBeNull($"tsnet up prints its ready line within {ReadyTimeout.TotalSeconds:0} s (exit code {tool.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}):\n{string.Join('\n', tool.Lines)}");
        var match = ReadyLine().Match(ready!);
        match.Success.Should().BeTrue($"'{ready}' has the api.md form");
        match.Groups["address"].Value.Should().Be(NodeAddress);
        match.Groups["key"].Value.Should().Be(nodeKey.PublicKey.ToString());
        var nodePort = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
        tool.Lines.Should().Contain(l => l.StartsWith("!" + config + ":4: warning: DNS", StringComparison.Ordinal), "the ignored DNS line is reported on stderr with file and line");

        await using var wg = await WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = WgAddress + "/24",
                ListenPort = wgPort,
                PrivateKey = wgKey,
                PeerPublicKey = nodeKey.PublicKey.ToString(),
                PeerEndpoint = "127.0.0.1:" + Port(nodePort),
                PeerAllowedIps = [NodeAddress + "/32"],
                Output = _output,
            },
            bound.Token);
        var ping = await wg.PingAsync(NodeAddress, count: 1, deadlineSeconds: 10, cancellationToken: bound.Token);
        ping.Received.Should().Be(1, "the session comes up: " + ping);

        var baseUrl = $"http://{NodeAddress}:{Port(httpPort)}";
        var download = await LinuxCurl.GetAsync(wg, baseUrl + "/big.bin", dir.File("download.bin"), TransferTimeout, bound.Token);
        _log.Write($"curl downloaded {TestScale.Describe(download.DownloadBytes)} in {download.TotalSeconds:0.00} s: {download.DownloadMbps:0.0} Mbit/s");
        download.Succeeded.Should().BeTrue(download.ToString());
        (await TestData.DigestFileAsync(dir.File("download.bin"), bound.Token)).Should().Be(new TransferDigest(FileBytes, fileSha), "curl received exactly the served file");

        var upload = await LinuxCurl.PutFileAsync(wg, baseUrl + "/sink", Path.Combine(www, "big.bin"), dir.File("sink.json"), TransferTimeout, bound.Token);
        _log.Write($"curl uploaded {TestScale.Describe(upload.UploadBytes)} in {upload.TotalSeconds:0.00} s: {upload.UploadMbps:0.0} Mbit/s");
        upload.Succeeded.Should().BeTrue(upload.ToString());
        (await File.ReadAllTextAsync(dir.File("sink.json"), bound.Token)).Trim().Should().Be(
            $"{{\"bytes\":{FileBytes.ToString(CultureInfo.InvariantCulture)},\"sha256\":\"{fileSha}\"}}",
            "tsnet hashed exactly the uploaded bytes");

        var missing = await LinuxCurl.RunAsync(wg, baseUrl + "/../wg0.conf", ["--path-as-is"], TimeSpan.FromSeconds(10), bound.Token);
        missing.HttpCode.Should().Be(400, "no path leaves the www directory: " + missing);

        var echoData = await TestData.CreateFileAsync(dir.File("echo.bin"), 256 * 1024, seed: 82, bound.Token);
        var echo = await Socat.RunAsync(
            wg,
            ["-t", "10", "OPEN:" + Socat.FilePath(dir.File("echo.bin")) + ",rdonly!!CREATE:" + Socat.FilePath(dir.File("echo-back.bin")), $"TCP4:{NodeAddress}:{Port(echoPort)}"],
            TimeSpan.FromSeconds(30),
            bound.Token);
        echo.Succeeded.Should().BeTrue(echo.ToString());
        (await TestData.DigestFileAsync(dir.File("echo-back.bin"), bound.Token)).Should().Be(new TransferDigest(256 * 1024, echoData), "the TCP echo returns every byte");

        const int datagram = 1000;
        var udpData = await TestData.CreateFileAsync(dir.File("udp.bin"), 5 * datagram, seed: 83, bound.Token);
        var udp = await LinuxSocatClient.UdpExchangeAsync(wg, new IPEndPoint(IPAddress.Parse(NodeAddress), udpEchoPort), dir.File("udp.bin"), dir.File("udp-back.bin"), datagram, TimeSpan.FromSeconds(2), bound.Token);
        udp.Succeeded.Should().BeTrue(udp.ToString());
        (await TestData.DigestFileAsync(dir.File("udp-back.bin"), bound.Token)).Should().Be(new TransferDigest(5 * datagram, udpData), "the UDP echo returns every datagram");

        NativeMethods.Terminate(tool.Id).Should().BeTrue("SIGTERM reaches the tool");
        var exitCode = await tool.WaitForExitAsync(TimeSpan.FromSeconds(5), bound.Token);
        exitCode.Should().Be(0, "SIGTERM is a clean stop:\n" + string.Join('\n', tool.Lines.TakeLast(20)));
        tool.Lines.Where(l => !l.StartsWith('!')).Should().ContainSingle("stdout carries only the ready line");
    }

    /// <summary><c>tsnet genkey</c>/<c>pubkey</c> and <c>wg genkey</c>/<c>pubkey</c> agree in both directions.</summary>
    [InteropFact]
    public async Task GenKeyAndPubKey_AgreeWithWg()
    {
        var toolKey = (await RunToolAsync(null, "genkey")).Trim();
        var wgKey = await WgTools.GenKeyAsync(_runner);

        (await WgTools.PubKeyAsync(_runner, toolKey)).Should().Be((await RunToolAsync(toolKey + "\n", "pubkey")).Trim(), "wg accepts tsnet's key and derives the same public key");
        (await RunToolAsync(wgKey + "\n", "pubkey")).Trim().Should().Be(await WgTools.PubKeyAsync(_runner, wgKey), "tsnet derives wg's public key from wg's key");
    }

    private async Task<string> RunToolAsync(string? stdin, params string[] args)
    {
        var result = await _runner.RunAsync(TsNetTool.DotnetHost, [TsNetTool.DllPath, .. args], TimeSpan.FromSeconds(30), stdin);
        return result.EnsureSuccess().StandardOutput;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("^ready address=(?<address>[0-9.]+) port=(?<port>[0-9]+) publickey=(?<key>[A-Za-z0-9+/]{43}=)$")]
    private static partial Regex ReadyLine();
}
