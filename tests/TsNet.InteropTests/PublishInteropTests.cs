using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// Port publishing (<see cref="TailnetServer.PublishAsync"/>) against the Linux kernel behind the stock wireguard-go
/// (same topology as <see cref="TcpInteropTests"/>): host sockets of this process on the loopback at one end, socat
/// or curl in wireguard-go's namespace at the other, TsNet relaying in between.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class PublishInteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";

    private static readonly TimeSpan TestBound = TestScale.Bound(TimeSpan.FromSeconds(60));
    private static readonly TimeSpan TransferTimeout = TestScale.Bound(TimeSpan.FromSeconds(40));

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public PublishInteropTests(ITestOutputHelper output)
    {
        InteropEnvironment.EnsureReady();
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    /// <summary>--forward tcp: a host client on 127.0.0.1 sends N bytes through TsNet to a socat sink in the namespace; SHA-256 exact.</summary>
    [InteropFact(Requires = "socat")]
    public async Task HostToTailnetTcp_HostClientToLinuxSink_Sha256Matches()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        await using var setup = await StartAsync(bound.Token);
        await using var sink = await LinuxTcpServer.StartSinkAsync(setup.Wg, IPAddress.Parse(WgAddress), OverlayPorts.Next(), dir.File("sink.bin"), bound.Token);
        await using var publication = await setup.Node.PublishAsync(
            [PortMapping.ParseForward($"tcp:127.0.0.1:0={WgAddress}:{sink.EndPoint.Port}")], bound.Token);
        var published = publication.Ports[0].EndPoint;
        _log.Write($"published {publication.Ports[0]}");

        var size = TestScale.TransferBytes;
        var clock = Stopwatch.StartNew();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(published, bound.Token);
        await using var stream = new NetworkStream(client, ownsSocket: false);
        using var transfer = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        transfer.CancelAfter(TransferTimeout);
        var sent = await TestData.WriteAsync(stream, size, seed: 81, transfer.Token);
        client.Shutdown(SocketShutdown.Send);

        // socat exits at the FIN the relay passes on; its close comes back as our end of stream.
        var back = await TestData.DrainAsync(stream, transfer.Token);
        LogRate("host -> TsNet -> Linux", size, clock.Elapsed);
        back.Bytes.Should().Be(0, "the sink sends nothing");
        var received = await sink.WaitForSinkAsync(TimeSpan.FromSeconds(10), bound.Token);
        received.Should().Be(new TransferDigest(size, sent), "Linux received exactly the host client's bytes");
    }

    /// <summary>--publish tcp: curl in the namespace downloads from an HTTP server on the host loopback through TsNet's overlay port; SHA-256 exact.</summary>
    [InteropFact(Requires = "curl")]
    public async Task TailnetToHostTcp_LinuxCurlDownloadsFromHostServer_Sha256Matches()
    {
        InteropEnvironment.EnsureTools("curl");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        await using var setup = await StartAsync(bound.Token);
        await using var http = StartHostHttpServer();
        var overlayPort = OverlayPorts.Next();
        await using var publication = await setup.Node.PublishAsync([PortMapping.ParsePublish($"tcp:{overlayPort}=127.0.0.1:{http.Port}")], bound.Token);

        var size = TestScale.TransferBytes;
        const ulong seed = 82;
        var output = dir.File("download.bin");
        var result = await LinuxCurl.GetAsync(setup.Wg, $"http://{NodeAddress}:{overlayPort}/bytes/{size}?seed={seed}", output, TransferTimeout, bound.Token);
        _log.Write($"curl via TsNet to the host: {TestScale.Describe(result.DownloadBytes)} in {result.TotalSeconds:0.00} s: {result.DownloadMbps:0.0} Mbit/s");

        result.Succeeded.Should().BeTrue(result.ToString());
        result.DownloadBytes.Should().Be(size, result.ToString());
        (await TestData.DigestFileAsync(output, bound.Token)).Should().Be(new TransferDigest(size, TestData.Sha256(size, seed)));
        http.Errors.Should().BeEmpty();
        publication.Ports[0].TotalSessions.Should().Be(1);
    }

    /// <summary>--publish tcp: socat in the namespace uploads N bytes through TsNet's overlay port to a host sink on the loopback; SHA-256 exact.</summary>
    [InteropFact(Requires = "socat")]
    public async Task TailnetToHostTcp_LinuxSocatUploadsToHostSink_Sha256Matches()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        await using var setup = await StartAsync(bound.Token);
        using var hostSink = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        hostSink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        hostSink.Listen();
        var sinkTask = Task.Run(
            async () =>
            {
                using var accepted = await hostSink.AcceptAsync(bound.Token);
                await using var stream = new NetworkStream(accepted, ownsSocket: false);
                return await TestData.DrainAsync(stream, bound.Token);
            },
            bound.Token);
        var overlayPort = OverlayPorts.Next();
        await using var publication = await setup.Node.PublishAsync(
            [PortMapping.TailnetToHost(PortProtocol.Tcp, overlayPort, (IPEndPoint)hostSink.LocalEndPoint!)], bound.Token);

        var size = TestScale.TransferBytes;
        var expected = new TransferDigest(size, await TestData.CreateFileAsync(dir.File("upload.bin"), size, seed: 83, bound.Token));
        var clock = Stopwatch.StartNew();
        var upload = await LinuxSocatClient.TcpSendFileAsync(setup.Wg, new IPEndPoint(IPAddress.Parse(NodeAddress), overlayPort), dir.File("upload.bin"), TransferTimeout, bound.Token);
        var received = await sinkTask.WaitAsync(TransferTimeout, bound.Token);
        LogRate("Linux -> TsNet -> host", size, clock.Elapsed);

        upload.Succeeded.Should().BeTrue(upload.ToString());
        received.Should().Be(expected, "the host sink received exactly the file, ended by the FIN socat sent");
    }

    /// <summary>--forward udp: a host client on 127.0.0.1 exchanges datagrams with a socat echo server in the namespace.</summary>
    [InteropFact(Requires = "socat")]
    public async Task HostToTailnetUdp_HostClientToLinuxEcho_RoundTrips()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        await using var setup = await StartAsync(bound.Token);
        await using var echo = await LinuxUdpEchoServer.StartAsync(setup.Wg, IPAddress.Parse(WgAddress), OverlayPorts.Next(), bound.Token);
        await using var publication = await setup.Node.PublishAsync(
            [PortMapping.ParseForward($"udp:127.0.0.1:0={WgAddress}:{echo.EndPoint.Port}")], bound.Token);
        var published = publication.Ports[0].EndPoint;

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var buffer = new byte[2048];
        var sizes = new[] { 1, 100, 1000, 1252 };
        for (var i = 0; i < sizes.Length; i++)
        {
            var payload = TestData.Bytes(sizes[i], seed: 90 + (ulong)i);
            await client.SendToAsync(payload, SocketFlags.None, published, bound.Token);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
            wait.CancelAfter(TimeSpan.FromSeconds(5));
            var received = await client.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), wait.Token);

            received.RemoteEndPoint.Should().Be(published);
            buffer.AsSpan(0, received.ReceivedBytes).ToArray().Should().Equal(payload, $"datagram {i} ({sizes[i]} bytes) comes back unchanged");
        }

        publication.Ports[0].ActiveSessions.Should().Be(1);
    }

    /// <summary>--publish udp: a socat client in the namespace sends a burst through TsNet's overlay port to a host echo socket; every datagram comes back in order.</summary>
    [InteropFact(Requires = "socat")]
    public async Task TailnetToHostUdp_LinuxSocatToHostEcho_RoundTrips()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestBound);
        using var dir = new TempDirectory();
        await using var setup = await StartAsync(bound.Token);
        using var hostEcho = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        hostEcho.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stopEcho = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        var echoed = 0;
        var echo = Task.Run(
            async () =>
            {
                var buffer = new byte[65536];
                try
                {
                    while (true)
                    {
                        var received = await hostEcho.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stopEcho.Token);
                        await hostEcho.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), SocketFlags.None, received.RemoteEndPoint, stopEcho.Token);
                        Interlocked.Increment(ref echoed);
                    }
                }
                catch (OperationCanceledException)
                {
                    // Done.
                }
            },
            CancellationToken.None);
        var overlayPort = OverlayPorts.Next();
        await using var publication = await setup.Node.PublishAsync(
            [PortMapping.TailnetToHost(PortProtocol.Udp, overlayPort, (IPEndPoint)hostEcho.LocalEndPoint!)], bound.Token);

        const int datagramSize = 1200;
        const int size = (10 * datagramSize) + 37;
        var sent = await TestData.CreateFileAsync(dir.File("udp.bin"), size, seed: 95, bound.Token);
        var exchange = await LinuxSocatClient.UdpExchangeAsync(
            setup.Wg, new IPEndPoint(IPAddress.Parse(NodeAddress), overlayPort), dir.File("udp.bin"), dir.File("udp-back.bin"), datagramSize, TimeSpan.FromSeconds(2), bound.Token);
        await stopEcho.CancelAsync();
        await ProcessRunner.WaitBoundedAsync(echo, TimeSpan.FromSeconds(5));

        exchange.Succeeded.Should().BeTrue(exchange.ToString());
        Volatile.Read(ref echoed).Should().Be(11, "the host echo received every datagram of the burst");
        (await TestData.DigestFileAsync(dir.File("udp-back.bin"), bound.Token)).Should().Be(new TransferDigest(size, sent), "every datagram came back whole and in order");
        publication.Ports[0].TotalSessions.Should().Be(1, "one Linux sender, one session");
    }

    private MiniHttpServer StartHostHttpServer()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return MiniHttpServer.Start(
            async ct => new NetworkStream(await listener.AcceptSocketAsync(ct), ownsSocket: true),
            () =>
            {
                listener.Stop();
                return ValueTask.CompletedTask;
            },
            _log,
            "host http 127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            port);
    }

    /// <summary>A started TsNet node and a wireguard-go peer that know each other, with the session up.</summary>
    private async Task<Setup> StartAsync(CancellationToken cancellationToken)
    {
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();
        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            LoggerFactory = new TestLoggerFactory(_log),
            Addresses = { IPNetwork.Parse(NodeAddress + "/32") },
            Peers = { new TailnetPeer { PublicKey = WireGuardKey.Parse(wgPub), Endpoint = "127.0.0.1:" + wgPort.ToString(CultureInfo.InvariantCulture), AllowedIps = { IPNetwork.Parse(WgAddress + "/32") } } },
        };
        var node = new TailnetServer(options);
        WireGuardGoPeer? wg = null;
        try
        {
            await node.StartAsync(cancellationToken);
            wg = await WireGuardGoPeer.StartAsync(
                new WireGuardGoPeerOptions
                {
                    Address = WgAddress + "/24",
                    ListenPort = wgPort,
                    PrivateKey = wgKey,
                    PeerPublicKey = node.PublicKey.ToString(),
                    PeerEndpoint = "127.0.0.1:" + node.ListenPort.ToString(CultureInfo.InvariantCulture),
                    PeerAllowedIps = new[] { NodeAddress + "/32" },
                    Output = _output,
                },
                cancellationToken);
            var ping = await wg.PingAsync(NodeAddress, count: 1, deadlineSeconds: 10, cancellationToken: cancellationToken);
            ping.Received.Should().Be(1, "the session must be up before the test: " + ping);
            return new Setup(node, wg);
        }
        catch
        {
            if (wg is not null)
            {
                await wg.DisposeAsync();
            }

            await node.DisposeAsync();
            throw;
        }
    }

    private void LogRate(string what, long bytes, TimeSpan elapsed) =>
        _log.Write($"{what}: {TestScale.Describe(bytes)} in {elapsed.TotalSeconds:0.00} s = {bytes * 8 / Math.Max(elapsed.TotalSeconds, 1e-6) / 1e6:0.0} Mbit/s");

    private sealed record Setup(TailnetServer Node, WireGuardGoPeer Wg) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Wg.DisposeAsync();
            await Node.DisposeAsync();
        }
    }
}
