using System.Globalization;
using System.Net;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// The loopback SOCKS5 proxy with a real client and a real server: host <c>curl</c> (root namespace) talks SOCKS5 to
/// the TsNet node in this process, which dials through the stock wireguard-go into its namespace, where the Linux
/// kernel's TCP serves a file over HTTP (socat). Downloads must be SHA-256 exact.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class Socks5InteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";
    private const string WgAddress6 = "fd7a:115c:a1e0::1";
    private const string NodeAddress6 = "fd7a:115c:a1e0::2";
    private const string WgName = "linux";

    private static readonly TimeSpan TestBound = TestScale.Bound(TimeSpan.FromSeconds(90));
    private static readonly TimeSpan TransferTimeout = TestScale.Bound(TimeSpan.FromSeconds(40));

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public Socks5InteropTests(ITestOutputHelper output)
    {
        InteropEnvironment.EnsureReady();
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    /// <summary>
    /// curl through the proxy downloads a file from Linux by IPv4 address (local resolution, ATYP 01), by IPv4 address
    /// and by peer name with <c>--socks5-hostname</c>, and by IPv6 address; each download is byte-exact.
    /// </summary>
    [InteropFact(Requires = "curl socat")]
    public async Task HostCurlThroughTheProxy_DownloadsFromLinux_ByIpByNameAndIpv6_Sha256Exact()
    {
        InteropEnvironment.EnsureTools("curl", "socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var size = TestScale.TransferBytes;
        var expected = new TransferDigest(size, await TestData.CreateFileAsync(dir.File("file.bin"), size, seed: 51, bound.Token));

        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();
        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = WgAddress + "/24",
                Address6 = WgAddress6 + "/64",
                ListenPort = wgPort,
                PrivateKey = wgKey,
                PeerPublicKey = node.PublicKey.ToString(),
                PeerEndpoint = Loopback(node.ListenPort),
                PeerAllowedIps = new[] { NodeAddress + "/32", NodeAddress6 + "/128" },
                Output = _output,
            },
            bound.Token);

        var port = OverlayPorts.Next();
        await using var http4 = await LinuxHttpFileServer.StartAsync(wg, IPAddress.Parse(WgAddress), port, dir.File("file.bin"), dir.Path, bound.Token);
        await using var http6 = await LinuxHttpFileServer.StartAsync(wg, IPAddress.Parse(WgAddress6), port, dir.File("file.bin"), dir.Path, bound.Token);
        await using var proxy = await node.StartLoopbackProxyAsync(cancellationToken: bound.Token);
        var proxyAddress = Loopback(proxy.EndPoint.Port);
        var portText = port.ToString(CultureInfo.InvariantCulture);

        (string Mode, string Url)[] downloads =
        [
            ("--socks5", $"http://{WgAddress}:{portText}/file.bin"),
            ("--socks5-hostname", $"http://{WgAddress}:{portText}/file.bin"),
            ("--socks5-hostname", $"http://{WgName}:{portText}/file.bin"),
            ("--socks5-hostname", $"http://[{WgAddress6}]:{portText}/file.bin"),
        ];
        for (var i = 0; i < downloads.Length; i++)
        {
            var (mode, url) = downloads[i];
            var output = dir.File($"download{i}.bin");
            var curl = await LinuxCurl.RunAsync(
                _runner,
                netns: null,
                url,
                new[] { mode, proxyAddress, "--proxy-user", proxy.Username + ":" + proxy.Password, "-o", output },
                TransferTimeout,
                bound.Token);
            curl.Succeeded.Should().BeTrue($"{mode} {url}: {curl}");
            _log.Write($"{mode} {url}: {curl.DownloadMbps:0.0} Mbit/s");
            (await TestData.DigestFileAsync(output, bound.Token)).Should().Be(expected, $"{mode} {url} downloads the file byte-exact");
        }

        // A wrong password is refused at the proxy: curl reports a proxy failure and gets no file.
        var refused = await LinuxCurl.RunAsync(
            _runner,
            netns: null,
            $"http://{WgAddress}:{portText}/file.bin",
            new[] { "--socks5-hostname", proxyAddress, "--proxy-user", proxy.Username + ":wrong" },
            TimeSpan.FromSeconds(10),
            bound.Token);
        refused.Succeeded.Should().BeFalse(refused.ToString());
        refused.DownloadBytes.Should().Be(0);
    }

    private TailnetServerOptions NodeOptions(string wgPublicKey, int wgPort)
    {
        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            LoggerFactory = new TestLoggerFactory(_log),
        };
        options.Addresses.Add(IPNetwork.Parse(NodeAddress + "/32"));
        options.Addresses.Add(IPNetwork.Parse(NodeAddress6 + "/128"));
        var peer = new TailnetPeer
        {
            PublicKey = WireGuardKey.Parse(wgPublicKey),
            Endpoint = Loopback(wgPort),
            Name = WgName,
        };
        peer.AllowedIps.Add(IPNetwork.Parse(WgAddress + "/32"));
        peer.AllowedIps.Add(IPNetwork.Parse(WgAddress6 + "/128"));
        options.Peers.Add(peer);
        return options;
    }

    private static string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
}
