using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// Proves the transfer helpers without TsNet: socat servers and clients across two stock wireguard-go peers (the
/// Linux kernel at both ends), <see cref="MiniHttpServer"/> with curl over a kernel socket on the host loopback, and
/// the deterministic test data.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class HarnessTransferSelfTests
{
    private static readonly IPAddress AddressA = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress AddressA6 = IPAddress.Parse("fd7a:115c:a1e0::1");

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public HarnessTransferSelfTests(ITestOutputHelper output)
    {
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    [Fact]
    public void TestData_IsDeterministicAndRandomAccess()
    {
        var whole = TestData.Bytes(1000, seed: 42);
        var piece = new byte[333];
        TestData.Fill(piece, 123, seed: 42);

        piece.Should().Equal(whole.AsSpan(123, 333).ToArray());
        TestData.Bytes(1000, seed: 43).Should().NotEqual(whole);
        TestData.Sha256(1000, seed: 42).Should().Be(TestData.Sha256(whole));
        whole.Distinct().Count().Should().BeGreaterThan(200, "the data looks random, so a shifted or repeated chunk is detected");
    }

    [Fact]
    public async Task TestData_FileDigestAndMismatchOffset()
    {
        using var dir = new TempDirectory();
        var path = dir.File("data.bin");
        var sha = await TestData.CreateFileAsync(path, 200_001, seed: 7);

        (await TestData.DigestFileAsync(path)).Should().Be(new TransferDigest(200_001, TestData.Sha256(200_001, 7)));
        sha.Should().Be(TestData.Sha256(200_001, 7));
        (await TestData.FirstMismatchAsync(path, 7)).Should().Be(-1);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 150_000;
            var b = file.ReadByte();
            file.Position = 150_000;
            file.WriteByte((byte)(b ^ 0xff));
        }

        (await TestData.FirstMismatchAsync(path, 7)).Should().Be(150_000);
        Directory.Exists(dir.Path).Should().BeTrue();
        dir.Dispose();
        Directory.Exists(dir.Path).Should().BeFalse();
    }

    [InteropFact(Requires = "socat")]
    public async Task Socat_TcpSinkSourceEchoAndUdpEcho_AcrossWireGuardGoPair()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TestScale.Bound(TimeSpan.FromSeconds(60)));
        using var dir = new TempDirectory();
        await using var pair = await StartPairAsync(bound.Token);
        var (a, b) = pair;
        var size = TestScale.TransferBytes;
        var sent = await TestData.CreateFileAsync(dir.File("send.bin"), size, seed: 11, bound.Token);

        // b -> a: socat client into a's sink.
        await using (var sink = await LinuxTcpServer.StartSinkAsync(a, AddressA, OverlayPorts.Next(), dir.File("sink.bin"), bound.Token))
        {
            var send = await LinuxSocatClient.TcpSendFileAsync(b, sink.EndPoint, dir.File("send.bin"), TimeSpan.FromSeconds(30), bound.Token);
            send.Succeeded.Should().BeTrue(send.ToString());
            (await sink.WaitForSinkAsync(TimeSpan.FromSeconds(10), bound.Token)).Should().Be(new TransferDigest(size, sent));
        }

        // a -> b: a's source to a socat client in b.
        await using (var source = await LinuxTcpServer.StartSourceAsync(a, AddressA, OverlayPorts.Next(), dir.File("send.bin"), bound.Token))
        {
            var receive = await LinuxSocatClient.TcpReceiveFileAsync(b, source.EndPoint, dir.File("received.bin"), TimeSpan.FromSeconds(30), bound.Token);
            receive.Succeeded.Should().BeTrue(receive.ToString());
            await source.WaitForCompletionAsync(TimeSpan.FromSeconds(10), bound.Token);
            (await TestData.DigestFileAsync(dir.File("received.bin"), bound.Token)).Should().Be(new TransferDigest(size, sent));
        }

        // TCP echo over IPv6, two connections in a row.
        await TestData.CreateFileAsync(dir.File("small.bin"), 100_000, seed: 12, bound.Token);
        await using (var echo = await LinuxTcpServer.StartEchoAsync(a, AddressA6, OverlayPorts.Next(), bound.Token))
        {
            for (var i = 0; i < 2; i++)
            {
                var output = dir.File($"echoed{i}.bin");
                var run = await Socat.RunAsync(b, new[] { "-t", "5", $"OPEN:{dir.File("small.bin")},rdonly!!CREATE:{output}", $"TCP6:{Socat.HostPort(echo.EndPoint)}" }, TimeSpan.FromSeconds(20), bound.Token);
                run.Succeeded.Should().BeTrue(run.ToString());
                (await TestData.DigestFileAsync(output, bound.Token)).Should().Be(new TransferDigest(100_000, TestData.Sha256(100_000, 12)));
            }
        }

        // UDP echo: a burst of 10 datagrams of 1200 bytes. socat answers each datagram from a forked child, so the
        // answers of a burst may overtake each other: compare them as a set of datagrams.
        var udpSize = 10 * 1200;
        await TestData.CreateFileAsync(dir.File("udp.bin"), udpSize, seed: 13, bound.Token);
        await using (var udpEcho = await LinuxUdpEchoServer.StartAsync(a, AddressA, OverlayPorts.Next(), bound.Token))
        {
            var exchange = await LinuxSocatClient.UdpExchangeAsync(b, udpEcho.EndPoint, dir.File("udp.bin"), dir.File("udp-back.bin"), 1200, TimeSpan.FromSeconds(1), bound.Token);
            exchange.Succeeded.Should().BeTrue(exchange.ToString());
            var back = await File.ReadAllBytesAsync(dir.File("udp-back.bin"), bound.Token);
            back.Length.Should().Be(udpSize);
            Datagrams(back, 1200).Should().BeEquivalentTo(Datagrams(await File.ReadAllBytesAsync(dir.File("udp.bin"), bound.Token), 1200));
        }
    }

    [InteropFact(Requires = "socat")]
    public async Task WireGuardGoPeerDispose_KillsProcessesLeftInItsNamespace()
    {
        InteropEnvironment.EnsureTools("socat");
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var pair = await StartPairAsync(bound.Token);
        var (a, _) = pair;
        await using var server = await LinuxTcpServer.StartEchoAsync(a, AddressA, OverlayPorts.Next(), bound.Token);
        var pids = (await _runner.RunCheckedAsync("ip", new[] { "netns", "pids", a.Namespace }, cancellationToken: bound.Token)).StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        pids.Should().NotBeEmpty();

        await pair.DisposeAsync();

        pids.Should().OnlyContain(pid => !LeftoverCleaner.IsAlive(pid));
        server.HasExited.Should().BeTrue();
    }

    [InteropFact(Requires = "curl")]
    public async Task MiniHttpServer_OnKernelSocket_ServesCurlGetPutAndRefusal()
    {
        InteropEnvironment.EnsureTools("curl");
        using var bound = new CancellationTokenSource(TestScale.Bound(TimeSpan.FromSeconds(60)));
        using var dir = new TempDirectory();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var server = MiniHttpServer.Start(
            async ct => new NetworkStream(await listener.AcceptSocketAsync(ct), ownsSocket: true),
            () =>
            {
                listener.Stop();
                return ValueTask.CompletedTask;
            },
            _log,
            "kernel http 127.0.0.1:" + port,
            port);
        var size = TestScale.TransferBytes;
        var url = $"http://127.0.0.1:{port}";

        var get = await LinuxCurl.RunAsync(_runner, null, $"{url}/bytes/{size}?seed=5", new[] { "-o", dir.File("get.bin") }, TimeSpan.FromSeconds(30), bound.Token);
        get.Succeeded.Should().BeTrue(get.ToString());
        get.DownloadBytes.Should().Be(size);
        (await TestData.DigestFileAsync(dir.File("get.bin"), bound.Token)).Should().Be(new TransferDigest(size, TestData.Sha256(size, 5)));

        var sha = await TestData.CreateFileAsync(dir.File("put.bin"), size, seed: 6, bound.Token);
        var put = await LinuxCurl.RunAsync(_runner, null, $"{url}/sink", new[] { "-T", dir.File("put.bin"), "-o", dir.File("put.json") }, TimeSpan.FromSeconds(30), bound.Token);
        put.Succeeded.Should().BeTrue(put.ToString());
        put.StandardError.Should().Contain("Expect: 100-continue", "curl asks before a large upload; the server answers 100");
        (await File.ReadAllTextAsync(dir.File("put.json"), bound.Token)).Trim().Should().Be($"{{\"bytes\":{size},\"sha256\":\"{sha}\"}}");

        var missing = await LinuxCurl.RunAsync(_runner, null, $"{url}/nothing", Array.Empty<string>(), TimeSpan.FromSeconds(10), bound.Token);
        missing.HttpCode.Should().Be(404, missing.ToString());

        server.Errors.Should().BeEmpty();
        server.Exchanges.Should().HaveCount(3);
        server.Exchanges.Should().ContainSingle(e => e.Request.StartsWith("PUT", StringComparison.Ordinal)).Which.BodySha256.Should().Be(sha);

        // A closed port on the kernel: what TcpInteropTests expects of TsNet.
        await server.DisposeAsync();
        server.Errors.Should().BeEmpty("disposing stops the listener without an accept error");
        var clock = Stopwatch.StartNew();
        var refused = await LinuxCurl.RunAsync(_runner, null, url + "/", Array.Empty<string>(), TimeSpan.FromSeconds(10), bound.Token);
        refused.ExitCode.Should().Be(7, refused.ToString());
        refused.StandardError.Should().Contain("Connection refused");
        refused.TotalSeconds.Should().BeLessThan(1);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    private static IEnumerable<string> Datagrams(byte[] data, int size) => data.Chunk(size).Select(d => TestData.Sha256(d));

    private async Task<WireGuardGoPair> StartPairAsync(CancellationToken cancellationToken)
    {
        var (keyA, pubA) = await WgTools.GenKeyPairAsync(_runner);
        var (keyB, pubB) = await WgTools.GenKeyPairAsync(_runner);
        var portA = UdpPorts.GetFree();
        var portB = UdpPorts.GetFree();
        var a = await WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = "100.64.0.1/24", Address6 = "fd7a:115c:a1e0::1/64", ListenPort = portA, PrivateKey = keyA, PeerPublicKey = pubB,
                PeerEndpoint = "127.0.0.1:" + portB, PeerAllowedIps = new[] { "100.64.0.2/32", "fd7a:115c:a1e0::2/128" }, Output = _output,
            },
            cancellationToken);
        try
        {
            var b = await WireGuardGoPeer.StartAsync(
                new WireGuardGoPeerOptions
                {
                    Address = "100.64.0.2/24", Address6 = "fd7a:115c:a1e0::2/64", ListenPort = portB, PrivateKey = keyB, PeerPublicKey = pubA,
                    PeerEndpoint = "127.0.0.1:" + portA, PeerAllowedIps = new[] { "100.64.0.1/32", "fd7a:115c:a1e0::1/128" }, Output = _output,
                },
                cancellationToken);
            return new WireGuardGoPair(a, b);
        }
        catch
        {
            await a.DisposeAsync();
            throw;
        }
    }

    private sealed record WireGuardGoPair(WireGuardGoPeer A, WireGuardGoPeer B) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await B.DisposeAsync();
            await A.DisposeAsync();
        }
    }
}
