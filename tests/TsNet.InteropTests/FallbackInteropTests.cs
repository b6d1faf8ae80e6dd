using System.Globalization;
using System.Net;
using System.Text;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// Fallback TCP handlers against Linux: in wireguard-go's namespace 198.18.0.0/15 (a benchmarking range, never routed
/// anywhere real) is routed into the tunnel and is in the TsNet peer's AllowedIPs, so Linux <c>curl</c> to such an
/// address reaches the TsNet node, whose handler answers as whatever address was asked for (app-connector style).
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class FallbackInteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";
    private const string RoutedRange = "198.18.0.0/15";

    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public FallbackInteropTests(ITestOutputHelper output)
    {
        // Only constructed when the test is not skipped: under CI=true an unusable machine fails here, loudly.
        InteropEnvironment.EnsureReady();
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    [InteropFact(Requires = "curl")]
    public async Task LinuxCurl_ToARoutedNonLocalAddress_ReachesTheHandler_AndUnclaimedPortsAreRefused()
    {
        InteropEnvironment.EnsureTools("curl");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();

        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse(NodeAddress + "/32") },
            LoggerFactory = new TestLoggerFactory(_log),
            Peers = { new TailnetPeer { PublicKey = WireGuardKey.Parse(wgPub), Endpoint = "127.0.0.1:" + wgPort, AllowedIps = { IPNetwork.Parse(WgAddress + "/32") } } },
        };
        await using var node = new TailnetServer(options);
        using var registration = node.RegisterFallbackTcpHandler((source, destination) => destination.Port == 80
            ? FallbackDecision.Accept((connection, token) => ServeOneHttpResponseAsync(connection, $"handled {destination} for {source.Address}", token))
            : FallbackDecision.Decline);
        await node.StartAsync(bound.Token);

        await using var wg = await WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = WgAddress + "/24",
                ListenPort = wgPort,
                PrivateKey = wgKey,
                PeerPublicKey = node.PublicKey.ToString(),
                PeerEndpoint = "127.0.0.1:" + node.ListenPort.ToString(CultureInfo.InvariantCulture),
                PeerAllowedIps = [NodeAddress + "/32", RoutedRange],
                Output = _output,
            },
            bound.Token);
        (await wg.ExecInNamespaceAsync("ip", "route", "add", RoutedRange, "dev", wg.TunName)).EnsureSuccess();

        foreach (var target in new[] { "198.18.0.5", "198.19.7.9" })
        {
            var body = dir.File($"body-{target}.txt");
            var fetch = await LinuxCurl.GetAsync(wg, $"http://{target}/", body, TimeSpan.FromSeconds(20), bound.Token);
            fetch.Succeeded.Should().BeTrue(fetch.ToString());
            (await File.ReadAllTextAsync(body, bound.Token)).Should().Be($"handled {target}:80 for {WgAddress}");
        }

        // Port 81: every handler declines, so the SYN gets a RST and curl fails at once with "connection refused" (7).
        var refused = await LinuxCurl.GetAsync(wg, "http://198.18.0.5:81/", dir.File("refused.txt"), TimeSpan.FromSeconds(20), bound.Token);
        refused.ExitCode.Should().Be(7, refused.ToString());
        refused.Command.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    /// <summary>Reads one request head, answers with <paramref name="text"/> and closes.</summary>
    private static async Task ServeOneHttpResponseAsync(TailnetConnection connection, string text, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        var buffer = new byte[1024];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && head.Length < 16 * 1024)
        {
            var n = await connection.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                return;
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        var body = Encoding.UTF8.GetBytes(text);
        await connection.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), cancellationToken);
        await connection.WriteAsync(body, cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
        await connection.CopyToAsync(Stream.Null, cancellationToken);
    }
}
