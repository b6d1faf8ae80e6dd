using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// TsNet's TCP and UDP against the Linux kernel's, through the stock wireguard-go (same topology as
/// <see cref="WireGuardInteropTests"/>): curl and socat run in wireguard-go's namespace, TsNet runs in this process.
/// Both sides know each other's UDP endpoint, so either may open the session. Bulk sizes follow
/// <see cref="TestScale"/> (<c>TSNET_TEST_SCALE</c>): 4 MiB per transfer at scale 1, 100 MiB at scale 10; bounds
/// stretch with the scale.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class TcpInteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";
    private const string WgAddress6 = "fd7a:115c:a1e0::1";
    private const string NodeAddress6 = "fd7a:115c:a1e0::2";

    /// <summary>Upper bound of any single test at scale 1; each normally takes a few seconds.</summary>
    private static readonly TimeSpan TestBound = TestScale.Bound(TimeSpan.FromSeconds(60));

    /// <summary>Bound for one bulk transfer (curl's --max-time, socat's completion).</summary>
    private static readonly TimeSpan TransferTimeout = TestScale.Bound(TimeSpan.FromSeconds(40));

    /// <summary>A refused connection must be reported well before any retransmission timer could fire.</summary>
    private static readonly TimeSpan RefusalBound = TimeSpan.FromSeconds(1);

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public TcpInteropTests(ITestOutputHelper output)
    {
        // Only constructed when the test is not skipped: under CI=true an unusable machine fails here, loudly.
        InteropEnvironment.EnsureReady();
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    /// <summary>Smoke: Linux and TsNet ping each other, then TsNet dials a socat echo server and gets its bytes back.</summary>
    [InteropFact(Requires = "socat")]
    public async Task Smoke_PingsBothWays_ThenTsNetTcpEchoThroughLinuxSocat()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, cancellationToken: bound.Token);

        AssertNoLoss(await wg.PingAsync(NodeAddress, count: 3, cancellationToken: bound.Token), 3);
        for (var i = 0; i < 3; i++)
        {
            var rtt = await node.PingAsync(IPAddress.Parse(WgAddress), TimeSpan.FromSeconds(5), bound.Token);
            _log.Write($"TsNet ping {WgAddress}: {rtt.TotalMilliseconds:0.00} ms");
        }

        await using var echo = await LinuxTcpServer.StartEchoAsync(wg, IPAddress.Parse(WgAddress), OverlayPorts.Next(), bound.Token);
        await using var connection = await node.ConnectTcpAsync(echo.EndPoint, bound.Token);
        connection.RemoteEndPoint.Should().Be(echo.EndPoint);
        connection.LocalEndPoint.Address.Should().Be(IPAddress.Parse(NodeAddress));

        const int size = 256 * 1024;
        var reader = TestData.DrainAsync(connection, bound.Token);
        var sent = await TestData.WriteAsync(connection, size, seed: 1, bound.Token);
        await connection.ShutdownWriteAsync(bound.Token);
        var echoed = await reader;

        echoed.Should().Be(new TransferDigest(size, sent), "socat echoes every byte, then closes after our FIN");
    }

    /// <summary>Linux <c>curl</c> downloads from TsNet's HTTP server; the bytes are exactly TsNet's.</summary>
    [InteropFact(Requires = "curl")]
    public Task LinuxCurl_DownloadsFromTsNetHttpServer_Sha256Matches() => CurlTransferAsync(upload: false, seed: 21, lossPercent: 0);

    /// <summary>Linux <c>curl -T</c> uploads to TsNet's HTTP server (PUT, <c>Expect: 100-continue</c>); TsNet hashes exactly what was sent.</summary>
    [InteropFact(Requires = "curl")]
    public Task LinuxCurl_UploadsToTsNetHttpServer_Sha256Matches() => CurlTransferAsync(upload: true, seed: 22, lossPercent: 0);

    /// <summary>TsNet dials a Linux socat sink and sends N bytes, then FIN; Linux received exactly those bytes.</summary>
    [InteropFact(Requires = "socat")]
    public async Task TsNetDialsLinux_SendsBytes_LinuxReceivesExactly()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, cancellationToken: bound.Token);

        await using var sink = await LinuxTcpServer.StartSinkAsync(wg, IPAddress.Parse(WgAddress), OverlayPorts.Next(), dir.File("sink.bin"), bound.Token);
        await SendToLinuxSinkAndVerifyAsync(node, sink, remote: null, seed: 31, bound.Token);
    }

    /// <summary>TsNet dials a Linux socat source and receives N bytes until Linux's FIN; they are exactly the file's.</summary>
    [InteropFact(Requires = "socat")]
    public async Task TsNetDialsLinux_ReceivesBytes_Exactly()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var size = TestScale.TransferBytes;
        var expected = new TransferDigest(size, await TestData.CreateFileAsync(dir.File("source.bin"), size, seed: 32, bound.Token));
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, cancellationToken: bound.Token);
        await using var source = await LinuxTcpServer.StartSourceAsync(wg, IPAddress.Parse(WgAddress), OverlayPorts.Next(), dir.File("source.bin"), bound.Token);

        var clock = Stopwatch.StartNew();
        await using var connection = await node.ConnectTcpAsync(source.EndPoint, bound.Token);
        using var transfer = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        transfer.CancelAfter(TransferTimeout);
        var received = await TestData.DrainAsync(connection, transfer.Token);
        LogRate("TsNet received from Linux", received.Bytes, clock.Elapsed);

        received.Should().Be(expected, "TsNet reads exactly the file socat sent, up to socat's FIN");
        await source.WaitForCompletionAsync(TimeSpan.FromSeconds(10), bound.Token);
    }

    /// <summary>curl downloads from TsNet while 5 % of the underlay datagrams (both directions) are dropped: still byte-exact.</summary>
    [InteropFact(Requires = "curl nft")]
    public Task UnderlayLoss5Percent_LinuxCurlDownload_ByteExact() => CurlTransferAsync(upload: false, seed: 41, lossPercent: 5);

    /// <summary>curl uploads to TsNet while 5 % of the underlay datagrams (both directions) are dropped: still byte-exact.</summary>
    [InteropFact(Requires = "curl nft")]
    public Task UnderlayLoss5Percent_LinuxCurlUpload_ByteExact() => CurlTransferAsync(upload: true, seed: 42, lossPercent: 5);

    /// <summary>curl in the namespace downloads from (or uploads to) TsNet's HTTP server, optionally with random underlay loss.</summary>
    private async Task CurlTransferAsync(bool upload, ulong seed, int lossPercent)
    {
        InteropEnvironment.EnsureTools(lossPercent > 0 ? ["curl", "nft"] : ["curl"]);
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, cancellationToken: bound.Token);
        await using var http = await StartHttpServerAsync(node, bound.Token);

        NftLoss? loss = null;
        if (lossPercent > 0)
        {
            await WarmUpAsync(wg, bound.Token);
            loss = await NftLoss.AddRandomDropAsync(_runner, null, new[] { wgPort, node.ListenPort }, lossPercent);
        }

        await using (loss)
        {
            if (upload)
            {
                await UploadAndVerifyAsync(wg, http, NodeAddress, dir, seed, bound.Token);
            }
            else
            {
                await DownloadAndVerifyAsync(wg, http, NodeAddress, dir, seed, bound.Token);
            }

            if (loss is not null)
            {
                var dropped = await loss.GetDroppedPacketsAsync();
                _log.Write($"nft dropped {dropped} underlay datagrams during the {(upload ? "upload" : "download")}");
                dropped.Should().BeGreaterThan(0, "the transfer really ran under loss");
            }
        }
    }

    /// <summary>UDP: a Linux socat client sends a burst of datagrams to a TsNet echo socket and gets each one back, boundaries and order kept.</summary>
    [InteropFact(Requires = "socat")]
    public async Task UdpEcho_LinuxSocatClient_TsNetEchoServer()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, cancellationToken: bound.Token);
        await WarmUpAsync(wg, bound.Token);

        var port = OverlayPorts.Next();
        await using var socket = await node.BindUdpAsync(port, bound.Token);
        socket.LocalEndPoint.Port.Should().Be(port);
        using var stopEcho = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        var senders = new List<IPEndPoint>();
        var echo = Task.Run(
            async () =>
            {
                var buffer = new byte[2048];
                while (!stopEcho.IsCancellationRequested)
                {
                    SocketReceiveFromResult received;
                    try
                    {
                        received = await socket.ReceiveFromAsync(buffer, stopEcho.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    var from = (IPEndPoint)received.RemoteEndPoint;
                    lock (senders)
                    {
                        senders.Add(from);
                    }

                    await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), from, stopEcho.Token);
                }
            },
            stopEcho.Token);

        // 10 datagrams of 1200 bytes and one of 37 (fits TsNet's default MTU 1280 with room to spare).
        const int datagramSize = 1200;
        const int size = (10 * datagramSize) + 37;
        var sent = await TestData.CreateFileAsync(dir.File("udp.bin"), size, seed: 51, bound.Token);
        var exchange = await LinuxSocatClient.UdpExchangeAsync(
            wg, new IPEndPoint(IPAddress.Parse(NodeAddress), port), dir.File("udp.bin"), dir.File("udp-back.bin"), datagramSize, TimeSpan.FromSeconds(2), bound.Token);
        await stopEcho.CancelAsync();
        await ProcessRunner.WaitBoundedAsync(echo, TimeSpan.FromSeconds(5));

        exchange.Succeeded.Should().BeTrue(exchange.ToString());
        lock (senders)
        {
            senders.Should().HaveCount(11, "TsNet received every datagram of the burst");
            senders.Should().OnlyContain(s => s.Address.Equals(IPAddress.Parse(WgAddress)) && s.Port == senders[0].Port);
        }

        (await TestData.DigestFileAsync(dir.File("udp-back.bin"), bound.Token)).Should().Be(new TransferDigest(size, sent), "every datagram came back whole and in order");
    }

    /// <summary>UDP: TsNet sends datagrams of several sizes (up to the IPv4 maximum at MTU 1280) to a Linux socat echo server, one at a time.</summary>
    [InteropFact(Requires = "socat")]
    public async Task UdpEcho_TsNetClient_LinuxSocatEchoServer()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, cancellationToken: bound.Token);
        await using var echo = await LinuxUdpEchoServer.StartAsync(wg, IPAddress.Parse(WgAddress), OverlayPorts.Next(), bound.Token);

        await using var socket = await node.BindUdpAsync(OverlayPorts.Next(), bound.Token);
        var buffer = new byte[2048];
        var sizes = new[] { 1, 100, 1000, 1252 };
        for (var i = 0; i < sizes.Length; i++)
        {
            var payload = TestData.Bytes(sizes[i], seed: 60 + (ulong)i);
            (await socket.SendToAsync(payload, echo.EndPoint, bound.Token)).Should().Be(payload.Length);

            // The first datagram also carries the handshake; socat answers each datagram from a fresh child.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
            wait.CancelAfter(TimeSpan.FromSeconds(5));
            var received = await socket.ReceiveFromAsync(buffer, wait.Token);

            received.RemoteEndPoint.Should().Be(echo.EndPoint);
            buffer.AsSpan(0, received.ReceivedBytes).ToArray().Should().Equal(payload, $"datagram {i} ({sizes[i]} bytes) comes back unchanged");
        }
    }

    /// <summary>IPv6 overlay: curl downloads from <c>[fd7a:115c:a1e0::2]</c>, and TsNet dials <c>[fd7a:115c:a1e0::1]</c> by text and sends to a socat sink.</summary>
    [InteropFact(Requires = "curl socat")]
    public async Task Ipv6_LinuxCurlDownload_AndTsNetDialsLinuxSink()
    {
        InteropEnvironment.EnsureTools("curl", "socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort, ipv6: true));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, ipv6: true, cancellationToken: bound.Token);
        await using var http = await StartHttpServerAsync(node, bound.Token);

        await DownloadAndVerifyAsync(wg, http, NodeAddress6, dir, seed: 71, bound.Token);

        await using var sink = await LinuxTcpServer.StartSinkAsync(wg, IPAddress.Parse(WgAddress6), OverlayPorts.Next(), dir.File("sink6.bin"), bound.Token);
        var text = "[" + WgAddress6 + "]:" + sink.EndPoint.Port.ToString(CultureInfo.InvariantCulture);
        await SendToLinuxSinkAndVerifyAsync(node, sink, text, seed: 72, bound.Token);
    }

    /// <summary>A SYN to a TsNet port nobody listens on is answered with RST: curl fails at once with "Connection refused" (exit 7), IPv4 and IPv6.</summary>
    [InteropFact(Requires = "curl")]
    public async Task LinuxConnectsToClosedTsNetPort_RefusedImmediately()
    {
        InteropEnvironment.EnsureTools("curl");
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort, ipv6: true));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, ipv6: true, cancellationToken: bound.Token);

        // Another port has a listener, so the node's TCP is up; the probed one has none.
        await using var http = await StartHttpServerAsync(node, bound.Token);
        await WarmUpAsync(wg, bound.Token);
        var closed = OverlayPorts.Next();

        foreach (var address in new[] { NodeAddress, "[" + NodeAddress6 + "]" })
        {
            var result = await LinuxCurl.RunAsync(wg, $"http://{address}:{closed}/", Array.Empty<string>(), TimeSpan.FromSeconds(10), bound.Token);

            result.ExitCode.Should().Be(7, "curl could not connect (28 would be a timeout: the SYN was dropped, not refused)\n" + result);
            result.StandardError.Should().Contain("Connection refused", result.ToString());
            result.TotalSeconds.Should().BeLessThan(RefusalBound.TotalSeconds, "TsNet answers the SYN with RST at once\n" + result);
        }

        http.Connections.Should().Be(0);
    }

    /// <summary>TsNet dials a Linux port nobody listens on: the kernel's RST makes ConnectTcpAsync throw ConnectionRefused at once.</summary>
    [InteropFact]
    public async Task TsNetConnectsToClosedLinuxPort_ThrowsConnectionRefusedQuickly()
    {
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub, wgPort) = await NewWireGuardGoIdentityAsync();

        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await StartWireGuardGoAsync(wgKey, node, wgPort, cancellationToken: bound.Token);
        await WarmUpAsync(wg, bound.Token);

        var remote = new IPEndPoint(IPAddress.Parse(WgAddress), OverlayPorts.Next());
        var clock = Stopwatch.StartNew();
        var connect = async () => await node.ConnectTcpAsync(remote, bound.Token);

        var thrown = await connect.Should().ThrowAsync<SocketException>();
        clock.Stop();
        _log.Write($"ConnectTcpAsync({remote}) failed after {clock.Elapsed.TotalMilliseconds:0.0} ms: {thrown.Which.SocketErrorCode}");
        thrown.Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
        clock.Elapsed.Should().BeLessThan(RefusalBound, "the Linux kernel answers the SYN with RST at once");
    }

    private async Task<MiniHttpServer> StartHttpServerAsync(TailnetServer node, CancellationToken cancellationToken)
    {
        var port = OverlayPorts.Next();
        var listener = await node.ListenTcpAsync(port, cancellationToken);
        listener.LocalEndPoint.Port.Should().Be(port);
        return MiniHttpServer.Start(listener, _log);
    }

    /// <summary>curl GET of N bytes from the TsNet HTTP server at <paramref name="host"/>; checks length, SHA-256 and the server's record.</summary>
    private async Task DownloadAndVerifyAsync(WireGuardGoPeer wg, MiniHttpServer http, string host, TempDirectory dir, ulong seed, CancellationToken cancellationToken)
    {
        var size = TestScale.TransferBytes;
        var output = dir.File($"download-{seed}.bin");
        var url = $"{Url(host, http.Port)}/bytes/{size}?seed={seed}";

        var result = await LinuxCurl.GetAsync(wg, url, output, TransferTimeout, cancellationToken);
        _log.Write($"curl downloaded {TestScale.Describe(result.DownloadBytes)} in {result.TotalSeconds:0.00} s: {result.DownloadMbps:0.0} Mbit/s");

        result.Succeeded.Should().BeTrue(result.ToString());
        result.DownloadBytes.Should().Be(size, result.ToString());
        await AssertFileIsStreamAsync(output, size, seed, cancellationToken);
        http.Errors.Should().BeEmpty();
    }

    /// <summary>curl PUT of N bytes to the TsNet HTTP server at <paramref name="host"/>; TsNet's SHA-256 (reply and record) must match the file's.</summary>
    private async Task UploadAndVerifyAsync(WireGuardGoPeer wg, MiniHttpServer http, string host, TempDirectory dir, ulong seed, CancellationToken cancellationToken)
    {
        var size = TestScale.TransferBytes;
        var input = dir.File($"upload-{seed}.bin");
        var sha = await TestData.CreateFileAsync(input, size, seed, cancellationToken);

        var result = await LinuxCurl.PutFileAsync(wg, $"{Url(host, http.Port)}/sink", input, dir.File($"upload-{seed}.json"), TransferTimeout, cancellationToken);
        _log.Write($"curl uploaded {TestScale.Describe(result.UploadBytes)} in {result.TotalSeconds:0.00} s: {result.UploadMbps:0.0} Mbit/s");

        result.Succeeded.Should().BeTrue(result.ToString());
        result.UploadBytes.Should().Be(size, result.ToString());
        var reply = (await File.ReadAllTextAsync(dir.File($"upload-{seed}.json"), cancellationToken)).Trim();
        reply.Should().Be($"{{\"bytes\":{size.ToString(CultureInfo.InvariantCulture)},\"sha256\":\"{sha}\"}}", "TsNet received exactly the uploaded bytes");
        http.Exchanges.Should().ContainSingle(e => e.Request == "PUT /sink").Which.BodySha256.Should().Be(sha);
        http.Errors.Should().BeEmpty();
    }

    /// <summary>TsNet connects (by endpoint, or by <paramref name="remote"/> text), sends N bytes, FIN; waits for Linux's FIN; the sink file must match.</summary>
    private async Task SendToLinuxSinkAndVerifyAsync(TailnetServer node, LinuxTcpServer sink, string? remote, ulong seed, CancellationToken cancellationToken)
    {
        var size = TestScale.TransferBytes;
        var clock = Stopwatch.StartNew();
        await using var connection = remote is null
            ? await node.ConnectTcpAsync(sink.EndPoint, cancellationToken)
            : await node.ConnectTcpAsync(remote, cancellationToken);
        connection.RemoteEndPoint.Should().Be(sink.EndPoint);

        using var transfer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        transfer.CancelAfter(TransferTimeout);
        var sent = await TestData.WriteAsync(connection, size, seed, transfer.Token);
        await connection.ShutdownWriteAsync(transfer.Token);

        // socat exits at our FIN and closes its side: the read side ends with nothing in it.
        var back = await TestData.DrainAsync(connection, transfer.Token);
        LogRate("TsNet sent to Linux", size, clock.Elapsed);
        back.Bytes.Should().Be(0, "the sink sends nothing");

        var received = await sink.WaitForSinkAsync(TimeSpan.FromSeconds(10), cancellationToken);
        sent.Should().Be(TestData.Sha256(size, seed));
        received.Bytes.Should().Be(size);
        await AssertFileIsStreamAsync(sink.FilePath!, size, seed, cancellationToken);
    }

    /// <summary>The file holds exactly the first <paramref name="size"/> bytes of stream <paramref name="seed"/>; otherwise says where it first differs.</summary>
    private static async Task AssertFileIsStreamAsync(string path, long size, ulong seed, CancellationToken cancellationToken)
    {
        var digest = await TestData.DigestFileAsync(path, cancellationToken);
        var expected = new TransferDigest(size, TestData.Sha256(size, seed));
        if (digest != expected)
        {
            var mismatch = await TestData.FirstMismatchAsync(path, seed, cancellationToken);
            digest.Should().Be(expected, mismatch >= 0 ? $"the first wrong byte is at offset {mismatch}" : "the received bytes are a correct but short prefix");
        }
    }

    /// <summary>One ping from Linux completes the handshake, so timing checks and loss start on an established session.</summary>
    private static async Task WarmUpAsync(WireGuardGoPeer wg, CancellationToken cancellationToken)
    {
        var ping = await wg.PingAsync(NodeAddress, count: 1, deadlineSeconds: 10, cancellationToken: cancellationToken);
        ping.Received.Should().Be(1, "the session must be up before the test: " + ping);
    }

    private async Task<(string PrivateKey, string PublicKey, int ListenPort)> NewWireGuardGoIdentityAsync()
    {
        var (key, pub) = await WgTools.GenKeyPairAsync(_runner);
        return (key, pub, UdpPorts.GetFree());
    }

    private TailnetServerOptions NodeOptions(string wgPublicKey, int wgPort, bool ipv6 = false)
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
            Endpoint = Loopback(wgPort),
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

    private Task<WireGuardGoPeer> StartWireGuardGoAsync(string privateKey, TailnetServer node, int listenPort, bool ipv6 = false, CancellationToken cancellationToken = default)
    {
        _log.Write($"TsNet node: public key {node.PublicKey}, UDP port {node.ListenPort}; transfers of {TestScale.Describe(TestScale.TransferBytes)} (scale {TestScale.Factor})");
        return WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = WgAddress + "/24",
                Address6 = ipv6 ? WgAddress6 + "/64" : null,
                ListenPort = listenPort,
                PrivateKey = privateKey,
                PeerPublicKey = node.PublicKey.ToString(),
                PeerEndpoint = Loopback(node.ListenPort),
                PeerAllowedIps = ipv6 ? new[] { NodeAddress + "/32", NodeAddress6 + "/128" } : new[] { NodeAddress + "/32" },
                Output = _output,
            },
            cancellationToken);
    }

    private void LogRate(string what, long bytes, TimeSpan elapsed) =>
        _log.Write($"{what}: {TestScale.Describe(bytes)} in {elapsed.TotalSeconds:0.00} s = {bytes * 8 / Math.Max(elapsed.TotalSeconds, 1e-6) / 1e6:0.0} Mbit/s");

    private static string Url(string host, int port) =>
        "http://" + (host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    private static void AssertNoLoss(PingResult ping, int count)
    {
        ping.Parsed.Should().BeTrue(ping.ToString());
        ping.Received.Should().BeGreaterThanOrEqualTo(count, ping.ToString());
        ping.LossPercent.Should().Be(0, ping.ToString());
    }

    private static string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
}
