using System.Diagnostics;
using System.Globalization;
using System.Net;
using TsNet.InteropTests.Harness;
using TsNet.WireGuard.Protocol;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// TsNet (in this process, UDP on the host loopback) against the stock wireguard-go, whose TUN sits in a namespace
/// where the Linux kernel pings and answers. Overlay: wireguard-go 100.64.0.1/24 (fd7a:115c:a1e0::1/64), TsNet
/// 100.64.0.2/32 (fd7a:115c:a1e0::2/128).
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class WireGuardInteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";
    private const string WgAddress6 = "fd7a:115c:a1e0::1";
    private const string NodeAddress6 = "fd7a:115c:a1e0::2";

    /// <summary>Upper bound of any single test; each normally takes a few seconds.</summary>
    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan NodePingTimeout = TimeSpan.FromSeconds(5);

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public WireGuardInteropTests(ITestOutputHelper output)
    {
        // Only constructed when the test is not skipped: under CI=true an unusable machine fails here, loudly.
        InteropEnvironment.EnsureReady();
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    /// <summary>1. wireguard-go initiates: TsNet has no endpoint for it; Linux pings TsNet 20 times without loss.</summary>
    [InteropFact]
    public async Task WireGuardGoInitiates_LinuxPingsTsNet_NoLoss()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);

        await using var node = new TailnetServer(NodeOptions(wgPub, wgEndpoint: null));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, peerEndpoint: NodeEndpoint(node), cancellationToken: bound.Token);

        var ping = await wg.PingAsync(NodeAddress, count: 20, cancellationToken: bound.Token);

        AssertNoLoss(ping, 20);
        var status = await wg.GetPeerStatusAsync(cancellationToken: bound.Token);
        status.LatestHandshake.Should().NotBeNull("wireguard-go completed a handshake with TsNet");
        status.Endpoint.Should().Be(NodeEndpoint(node));
        wg.HasLogged("Sending handshake initiation").Should().BeTrue("wireguard-go was the initiator");
        wg.HasLogged("Received handshake response").Should().BeTrue("TsNet answered the initiation");
    }

    /// <summary>2. TsNet initiates: wireguard-go has no endpoint for TsNet and learns it from our handshake.</summary>
    [InteropFact]
    public async Task TsNetInitiates_PingsWireGuardGoKernel_NoLoss()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgEndpoint: Loopback(wgPort)));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, listenPort: wgPort, peerEndpoint: null, cancellationToken: bound.Token);
        (await wg.GetPeerStatusAsync(cancellationToken: bound.Token)).Endpoint.Should().BeNull("wireguard-go must learn TsNet's endpoint from the handshake");

        var failures = await NodePingsAsync(node, IPAddress.Parse(WgAddress), count: 20, TimeSpan.FromMilliseconds(200), bound.Token);

        failures.Should().Be(0, "every ping from TsNet is answered by the Linux kernel behind wireguard-go");
        var status = await wg.GetPeerStatusAsync(cancellationToken: bound.Token);
        status.Endpoint.Should().Be(NodeEndpoint(node), "wireguard-go learned TsNet's endpoint from its initiation");
        status.LatestHandshake.Should().NotBeNull();
        wg.HasLogged("Received handshake initiation").Should().BeTrue("TsNet was the initiator");
    }

    /// <summary>3. A preshared key on both sides: TsNet initiates, then Linux pings back.</summary>
    [InteropFact]
    public async Task PresharedKey_BothSides_PingsBothDirections()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var psk = await WgTools.GenPskAsync(_runner);
        var wgPort = UdpPorts.GetFree();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgEndpoint: Loopback(wgPort), presharedKey: psk));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, listenPort: wgPort, peerEndpoint: NodeEndpoint(node), presharedKey: psk, cancellationToken: bound.Token);
        (await wg.GetPeerStatusAsync(cancellationToken: bound.Token)).PresharedKey.Should().Be(psk);

        var failures = await NodePingsAsync(node, IPAddress.Parse(WgAddress), count: 5, TimeSpan.FromMilliseconds(200), bound.Token);
        failures.Should().Be(0, "the PSK handshake initiated by TsNet must complete");

        var ping = await wg.PingAsync(NodeAddress, count: 10, cancellationToken: bound.Token);
        AssertNoLoss(ping, 10);
        wg.HasLogged("Received handshake initiation").Should().BeTrue();
    }

    /// <summary>4. IPv6 overlay: Linux <c>ping -6</c> to TsNet (first packet triggers the handshake), then TsNet pings back over IPv6.</summary>
    [InteropFact]
    public async Task Ipv6Overlay_PingsBothDirections()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);

        await using var node = new TailnetServer(NodeOptions(wgPub, wgEndpoint: null, ipv6: true));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, peerEndpoint: NodeEndpoint(node), ipv6: true, cancellationToken: bound.Token);

        var ping = await wg.PingAsync(NodeAddress6, count: 10, ipv6: true, cancellationToken: bound.Token);
        AssertNoLoss(ping, 10);

        var failures = await NodePingsAsync(node, IPAddress.Parse(WgAddress6), count: 5, TimeSpan.FromMilliseconds(200), bound.Token);
        failures.Should().Be(0, "TsNet's IPv6 echo requests are answered by the kernel behind wireguard-go");
    }

    /// <summary>5. Roaming: TsNet moves to a new UDP port mid-session; its next packet updates wireguard-go's endpoint.</summary>
    [InteropFact]
    public async Task Roaming_TsNetChangesUdpPort_SessionKeepsWorking()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgEndpoint: Loopback(wgPort)));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, listenPort: wgPort, peerEndpoint: NodeEndpoint(node), cancellationToken: bound.Token);

        (await NodePingsAsync(node, IPAddress.Parse(WgAddress), count: 3, TimeSpan.FromMilliseconds(200), bound.Token)).Should().Be(0);
        AssertNoLoss(await wg.PingAsync(NodeAddress, count: 5, cancellationToken: bound.Token), 5);
        var oldPort = node.ListenPort;
        (await wg.GetPeerStatusAsync(cancellationToken: bound.Token)).Endpoint.Should().Be(Loopback(oldPort));
        var handshakesBefore = CountLogged(wg, "Received handshake initiation");

        var newPort = await node.RebindUnderlayAsync(0, bound.Token);
        _log.Write($"TsNet rebound its underlay from UDP {oldPort} to {newPort}");

        newPort.Should().NotBe(oldPort);
        node.ListenPort.Should().Be(newPort);
        var failures = await NodePingsAsync(node, IPAddress.Parse(WgAddress), count: 5, TimeSpan.FromMilliseconds(200), bound.Token);
        failures.Should().Be(0, "TsNet's first packet from the new port roams wireguard-go's endpoint");
        (await wg.GetPeerStatusAsync(cancellationToken: bound.Token)).Endpoint.Should().Be(Loopback(newPort), "wireguard-go follows the authenticated packet's source");
        AssertNoLoss(await wg.PingAsync(NodeAddress, count: 10, cancellationToken: bound.Token), 10);
        CountLogged(wg, "Received handshake initiation").Should().Be(handshakesBefore, "roaming keeps the session; no new handshake is needed");
    }

    /// <summary>
    /// 6. Cookie path: TsNet always counts as under load, so it answers wireguard-go's first initiation with a cookie
    /// reply; wireguard-go retransmits after REKEY_TIMEOUT (5 s) with mac2 and the handshake completes.
    /// </summary>
    [InteropFact]
    public async Task UnderLoad_WireGuardGoCompletesHandshakeViaCookieReply()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);

        var options = NodeOptions(wgPub, wgEndpoint: null);
        options.TestHooks.UnderLoadThreshold = 0;
        await using var node = new TailnetServer(options);
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, peerEndpoint: NodeEndpoint(node), cancellationToken: bound.Token);

        // ping keeps sending until 5 replies arrived or 20 s passed; the first echo requests wait for the cookie round.
        var first = await wg.PingAsync(NodeAddress, count: 5, deadlineSeconds: 20, cancellationToken: bound.Token);

        first.Received.Should().BeGreaterThanOrEqualTo(1, first.ToString());
        wg.HasLogged("Receiving cookie response").Should().BeTrue("TsNet under load must answer the first initiation with a cookie reply");
        CountLogged(wg, "Sending handshake initiation").Should().BeGreaterThanOrEqualTo(2, "wireguard-go retransmits the initiation, now with mac2");
        wg.HasLogged("Received handshake response").Should().BeTrue("TsNet accepts the initiation carrying a valid mac2");
        (await wg.GetPeerStatusAsync(cancellationToken: bound.Token)).LatestHandshake.Should().NotBeNull();

        AssertNoLoss(await wg.PingAsync(NodeAddress, count: 10, cancellationToken: bound.Token), 10);
    }

    /// <summary>
    /// 7. Timers: TsNet rekeys after 3 s (test hook). A 12 s ping stream from Linux, with TsNet pinging too, spans at
    /// least two rekeys without losing a packet; wireguard-go's latest handshake advances at least twice.
    /// </summary>
    [InteropFact]
    public async Task ShortRekeyTimer_PingStreamAcrossRekeys_NoLoss()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();

        var options = NodeOptions(wgPub, wgEndpoint: Loopback(wgPort));
        options.TestHooks.Timers = WireGuardTimerSettings.Default with { RekeyAfterTime = TimeSpan.FromSeconds(3) };
        await using var node = new TailnetServer(options);
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, listenPort: wgPort, peerEndpoint: NodeEndpoint(node), cancellationToken: bound.Token);

        // TsNet initiates, so TsNet owns the rekey-after-time timer of each session.
        (await NodePingsAsync(node, IPAddress.Parse(WgAddress), count: 1, TimeSpan.Zero, bound.Token)).Should().Be(0);
        var handshakes = new SortedSet<DateTimeOffset>();
        if ((await wg.GetPeerStatusAsync(cancellationToken: bound.Token)).LatestHandshake is { } initial)
        {
            handshakes.Add(initial);
        }

        var linux = wg.PingAsync(NodeAddress, count: 60, deadlineSeconds: 30, cancellationToken: bound.Token);
        var nodePings = Task.Run(
            async () =>
            {
                var sent = 0;
                var failed = 0;
                for (var i = 0; i < 60 && !linux.IsCompleted; i++)
                {
                    sent++;
                    failed += await NodePingOnceAsync(node, IPAddress.Parse(WgAddress), bound.Token) ? 0 : 1;
                    await Task.Delay(300, bound.Token);
                }

                return (sent, failed);
            },
            bound.Token);
        var poller = Task.Run(
            async () =>
            {
                for (var i = 0; i < 200 && !linux.IsCompleted; i++)
                {
                    var status = await wg.GetPeerStatusAsync(quiet: true, cancellationToken: bound.Token);
                    if (status.LatestHandshake is { } at && handshakes.Add(at))
                    {
                        _log.Write($"wireguard-go latest handshake now {at:HH:mm:ss}");
                    }

                    await Task.Delay(250, bound.Token);
                }
            },
            bound.Token);

        var ping = await linux;
        var (nodeSent, nodeFailed) = await nodePings;
        await poller;
        if ((await wg.GetPeerStatusAsync(cancellationToken: bound.Token)).LatestHandshake is { } last)
        {
            handshakes.Add(last);
        }

        AssertNoLoss(ping, 60);
        nodeFailed.Should().Be(0, $"all {nodeSent} pings from TsNet during the rekeys are answered");
        handshakes.Count.Should().BeGreaterThanOrEqualTo(3, $"the first handshake plus at least two rekeys within 12 s (seen: {string.Join(", ", handshakes.Select(h => h.ToString("HH:mm:ss", CultureInfo.InvariantCulture)))})");
        CountLogged(wg, "Received handshake initiation").Should().BeGreaterThanOrEqualTo(3, "TsNet initiated each rekey");
    }

    /// <summary>8. Packet capture: Linux pings TsNet while the node captures; tshark reads the pcap and sees both directions.</summary>
    [InteropFact(Requires = "tshark")]
    public async Task PacketCapture_OfLinuxPings_IsReadableByTshark()
    {
        InteropEnvironment.EnsureTools("tshark");
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        using var directory = new TempDirectory();
        var pcap = directory.File("node.pcap");

        await using var node = new TailnetServer(NodeOptions(wgPub, wgEndpoint: null));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, peerEndpoint: NodeEndpoint(node), cancellationToken: bound.Token);
        using var stopCapture = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        await using (var file = File.Create(pcap))
        {
            var capture = node.CapturePcapAsync(file, stopCapture.Token);
            var ping = await wg.PingAsync(NodeAddress, count: 5, cancellationToken: bound.Token);
            AssertNoLoss(ping, 5);
            await stopCapture.CancelAsync();
            await capture.WaitAsync(TimeSpan.FromSeconds(10), bound.Token);
        }

        var read = await _runner.RunAsync(
            "tshark",
            ["-r", pcap, "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.type", "-E", "separator=,"],
            cancellationToken: bound.Token);
        read.Succeeded.Should().BeTrue($"tshark reads the capture: {read.StandardError}");
        var lines = read.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines.Count(l => l == $"{WgAddress},{NodeAddress},8").Should().Be(5, "every echo request TsNet received");
        lines.Count(l => l == $"{NodeAddress},{WgAddress},0").Should().Be(5, "every echo reply TsNet sent");
    }

    private TailnetServerOptions NodeOptions(string wgPublicKey, string? wgEndpoint, bool ipv6 = false, string? presharedKey = null)
    {
        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            ListenPort = 0,
            LoggerFactory = new TestLoggerFactory(_log),
        };
        options.Addresses.Add(IPNetwork.Parse(NodeAddress + "/32"));
        var peer = new TailnetPeer
        {
            PublicKey = WireGuardKey.Parse(wgPublicKey),
            Endpoint = wgEndpoint,
            PresharedKey = presharedKey is null ? null : WireGuardKey.Parse(presharedKey),
        };
        peer.AllowedIps.Add(IPNetwork.Parse(WgAddress + "/32"));
        if (ipv6)
        {
            options.Addresses.Add(IPNetwork.Parse(NodeAddress6 + "/128"));
            peer.AllowedIps.Add(IPNetwork.Parse(WgAddress6 + "/128"));
        }

        options.Peers.Add(peer);
        return options;
    }

    private Task<WireGuardGoPeer> StartWireGuardGoAsync(
        string privateKey,
        TailnetServer node,
        string? peerEndpoint,
        int listenPort = 0,
        bool ipv6 = false,
        string? presharedKey = null,
        CancellationToken cancellationToken = default)
    {
        _log.Write($"TsNet node: public key {node.PublicKey}, UDP port {node.ListenPort}");
        return WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = WgAddress + "/24",
                Address6 = ipv6 ? WgAddress6 + "/64" : null,
                ListenPort = listenPort,
                PrivateKey = privateKey,
                PeerPublicKey = node.PublicKey.ToString(),
                PeerEndpoint = peerEndpoint,
                PeerAllowedIps = ipv6 ? new[] { NodeAddress + "/32", NodeAddress6 + "/128" } : new[] { NodeAddress + "/32" },
                PresharedKey = presharedKey,
                Output = _output,
            },
            cancellationToken);
    }

    /// <summary>TsNet pings <paramref name="target"/> <paramref name="count"/> times; returns the number of failures (stops after 3).</summary>
    private async Task<int> NodePingsAsync(TailnetServer node, IPAddress target, int count, TimeSpan interval, CancellationToken cancellationToken)
    {
        var failures = 0;
        for (var i = 0; i < count && failures < 3; i++)
        {
            if (!await NodePingOnceAsync(node, target, cancellationToken))
            {
                failures++;
            }

            if (interval > TimeSpan.Zero && i + 1 < count)
            {
                await Task.Delay(interval, cancellationToken);
            }
        }

        return failures;
    }

    private async Task<bool> NodePingOnceAsync(TailnetServer node, IPAddress target, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var rtt = await node.PingAsync(target, NodePingTimeout, cancellationToken);
            _log.Write($"TsNet ping {target}: reply in {rtt.TotalMilliseconds:0.00} ms");
            return true;
        }
        catch (TimeoutException)
        {
            _log.Write($"TsNet ping {target}: NO reply within {clock.Elapsed.TotalSeconds:0.0} s");
            return false;
        }
    }

    private static void AssertNoLoss(PingResult ping, int count)
    {
        ping.Parsed.Should().BeTrue(ping.ToString());
        // With -w, ping keeps sending until it has count replies: a late burst of replies can make it send one more.
        ping.Received.Should().BeGreaterThanOrEqualTo(count, ping.ToString());
        ping.Received.Should().Be(ping.Transmitted, ping.ToString());
        ping.LossPercent.Should().Be(0, ping.ToString());
    }

    private static int CountLogged(WireGuardGoPeer wg, string text) => wg.LogLines.Count(l => l.Contains(text, StringComparison.Ordinal));

    private static string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

    private static string NodeEndpoint(TailnetServer node) => Loopback(node.ListenPort);
}
