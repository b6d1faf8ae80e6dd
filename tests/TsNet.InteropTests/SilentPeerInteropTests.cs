using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// A stock wireguard-go peer that does not know the TsNet node's key (the newcomer's most likely mistake): it drops
/// every handshake. UDP sends fail after the handshake bound naming the peer, host curl through the SOCKS5 proxy gets
/// host unreachable (0x04) at the bound, and once the peer is told the node's key, datagrams flow again (issue 15).
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class SilentPeerInteropTests
{
    private const string WgAddress = "100.64.0.1";
    private const string NodeAddress = "100.64.0.2";
    private const string WgName = "linux";

    private static readonly TimeSpan TestBound = TestScale.Bound(TimeSpan.FromSeconds(120));
    private static readonly TimeSpan HandshakeBound = TimeSpan.FromSeconds(10);

    private readonly ITestOutputHelper _output;
    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public SilentPeerInteropTests(ITestOutputHelper output)
    {
        InteropEnvironment.EnsureReady();
        _output = output;
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    [InteropFact(Requires = "curl socat")]
    public async Task PeerWithoutTheNodesKey_UdpFailsAndSocks5Answers04AtTheBound_ThenUdpFlowsOnceThePeerKnowsTheKey()
    {
        InteropEnvironment.EnsureTools("curl", "socat");
        using var bound = new CancellationTokenSource(TestBound);
        var (wgKey, wgPub) = await WgTools.GenKeyPairAsync(_runner);
        var (_, strangerPub) = await WgTools.GenKeyPairAsync(_runner);
        var wgPort = UdpPorts.GetFree();
        await using var node = new TailnetServer(NodeOptions(wgPub, wgPort));
        await node.StartAsync(bound.Token);
        await using var wg = await WireGuardGoPeer.StartAsync(
            new WireGuardGoPeerOptions
            {
                Address = WgAddress + "/24",
                ListenPort = wgPort,
                PrivateKey = wgKey,
                PeerPublicKey = strangerPub, // not the node's key: wireguard-go ignores the node's initiations
                PeerAllowedIps = new[] { NodeAddress + "/32" },
                Output = _output,
            },
            bound.Token);
        await using var echo = await LinuxUdpEchoServer.StartAsync(wg, IPAddress.Parse(WgAddress), OverlayPorts.Next(), bound.Token);

        // UDP: queued while the node tries, refused from the bound on, naming the peer and what to check.
        await using var socket = await node.BindUdpAsync(0, bound.Token);
        var sending = Stopwatch.StartNew();
        SocketException? refused = null;
        while (refused is null && sending.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                await socket.SendToAsync("ping"u8.ToArray(), echo.EndPoint, bound.Token);
                await Task.Delay(TimeSpan.FromMilliseconds(200), bound.Token); // pacing the sender, not waiting for an outcome
            }
            catch (SocketException ex)
            {
                refused = ex;
            }
        }

        _log.Write($"first refused send after {sending.Elapsed.TotalSeconds:0.00} s: {refused?.Message}");
        refused.Should().NotBeNull();
        sending.Elapsed.Should().BeGreaterThanOrEqualTo(HandshakeBound).And.BeLessThan(HandshakeBound + TimeSpan.FromSeconds(3));
        refused!.SocketErrorCode.Should().Be(SocketError.HostUnreachable);
        refused.Message.Should().Contain($"no WireGuard handshake with peer '{WgName}'")
            .And.Contain("endpoint " + wg.Endpoint)
            .And.Contain("does the peer know this node's public key (" + node.PublicKey + ")");

        // SOCKS5 through host curl: host unreachable at the bound, not curl's own timeout.
        await using var proxy = await node.StartLoopbackProxyAsync(cancellationToken: bound.Token);
        var curling = Stopwatch.StartNew();
        var curl = await LinuxCurl.RunAsync(
            _runner,
            netns: null,
            $"http://{WgName}:80/",
            new[] { "--socks5-hostname", "127.0.0.1:" + proxy.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--proxy-user", proxy.Username + ":" + proxy.Password, "--connect-timeout", "30" },
            TimeSpan.FromSeconds(30),
            bound.Token);
        _log.Write($"curl through the proxy: exit {curl.ExitCode} after {curling.Elapsed.TotalSeconds:0.00} s");
        curl.ExitCode.Should().Be(97, curl.StandardError);
        curl.StandardError.Should().Contain("(4)", "SOCKS5 reply 4: host unreachable");
        curling.Elapsed.Should().BeGreaterThanOrEqualTo(HandshakeBound).And.BeLessThan(TimeSpan.FromSeconds(15));

        // The peer learns the node's key: the node's next handshake retry (every 5 s) completes and datagrams flow.
        await _runner.RunCheckedAsync("wg", new[] { "set", wg.TunName, "peer", node.PublicKey.ToString(), "allowed-ips", NodeAddress + "/32" }, TimeSpan.FromSeconds(10), cancellationToken: bound.Token);
        var recovering = Stopwatch.StartNew();
        var buffer = new byte[64];
        var echoed = false;
        while (!echoed && recovering.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                await socket.SendToAsync("back"u8.ToArray(), echo.EndPoint, bound.Token);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.HostUnreachable)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), bound.Token); // pacing the sender
                continue;
            }

            using var receive = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
            receive.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                // What was queued before the bound may come back first; "back" is what counts.
                while (!echoed)
                {
                    var result = await socket.ReceiveFromAsync(buffer, receive.Token);
                    echoed = buffer.AsSpan(0, result.ReceivedBytes).SequenceEqual("back"u8);
                }
            }
            catch (OperationCanceledException) when (!bound.IsCancellationRequested)
            {
                // No echo within 2 s (the handshake is not done yet): send again.
            }
        }

        _log.Write($"echo after the peer learned the key: {echoed} after {recovering.Elapsed.TotalSeconds:0.00} s");
        echoed.Should().BeTrue("the handshake completes at the node's next retry and the mark is gone");
        recovering.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(12));
    }

    private TailnetServerOptions NodeOptions(string wgPublicKey, int wgPort)
    {
        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            LoggerFactory = new TestLoggerFactory(_log),
        };
        options.Addresses.Add(IPNetwork.Parse(NodeAddress + "/32"));
        var peer = new TailnetPeer
        {
            PublicKey = WireGuardKey.Parse(wgPublicKey),
            Endpoint = "127.0.0.1:" + wgPort.ToString(CultureInfo.InvariantCulture),
            Name = WgName,
        };
        peer.AllowedIps.Add(IPNetwork.Parse(WgAddress + "/32"));
        options.Peers.Add(peer);
        return options;
    }
}
