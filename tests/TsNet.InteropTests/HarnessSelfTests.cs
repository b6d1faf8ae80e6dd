using TsNet.InteropTests.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>Proves the harness itself: two stock wireguard-go peers, each in its own namespace, ping each other (IPv4 and IPv6).</summary>
[Collection(InteropCollection.Name)]
public sealed class HarnessSelfTests
{
    private readonly ITestOutputHelper _output;
    private readonly ProcessRunner _runner;

    public HarnessSelfTests(ITestOutputHelper output)
    {
        _output = output;
        _runner = new ProcessRunner(new TestLog(output));
    }

    [InteropFact]
    public async Task WireGuardGoPair_PingsAcrossNamespaces()
    {
        InteropEnvironment.EnsureReady();
        var (keyA, pubA) = await WgTools.GenKeyPairAsync(_runner);
        var (keyB, pubB) = await WgTools.GenKeyPairAsync(_runner);
        var portA = UdpPorts.GetFree();
        var portB = UdpPorts.GetFree();

        await using var a = await WireGuardGoPeer.StartAsync(new WireGuardGoPeerOptions
        {
            Address = "100.64.0.1/24",
            Address6 = "fd7a:115c:a1e0::1/64",
            ListenPort = portA,
            PrivateKey = keyA,
            PeerPublicKey = pubB,
            PeerEndpoint = "127.0.0.1:" + portB,
            PeerAllowedIps = new[] { "100.64.0.2/32", "fd7a:115c:a1e0::2/128" },
            Output = _output,
        });
        await using var b = await WireGuardGoPeer.StartAsync(new WireGuardGoPeerOptions
        {
            Address = "100.64.0.2/24",
            Address6 = "fd7a:115c:a1e0::2/64",
            ListenPort = portB,
            PrivateKey = keyB,
            PeerPublicKey = pubA,
            PeerEndpoint = "127.0.0.1:" + portA,
            PeerAllowedIps = new[] { "100.64.0.1/32", "fd7a:115c:a1e0::1/128" },
            Output = _output,
        });

        a.PublicKey.Should().Be(pubA);
        a.Namespace.Should().NotBe(b.Namespace);
        a.TunName.Length.Should().BeLessOrEqualTo(15);

        var ping = await a.PingAsync("100.64.0.2", count: 5);
        ping.Parsed.Should().BeTrue(ping.ToString());
        ping.Received.Should().Be(5, ping.ToString());
        ping.LossPercent.Should().Be(0, ping.ToString());

        var ping6 = await b.PingAsync("fd7a:115c:a1e0::1", count: 5, ipv6: true);
        ping6.Received.Should().Be(5, ping6.ToString());
        ping6.LossPercent.Should().Be(0, ping6.ToString());

        var status = await a.GetPeerStatusAsync();
        status.Endpoint.Should().Be("127.0.0.1:" + portB);
        status.LatestHandshake.Should().NotBeNull();
        status.TxBytes.Should().BeGreaterThan(0);
        status.RxBytes.Should().BeGreaterThan(0);

        // The wg side of b learned nothing new, but its handshake completed as responder.
        (await b.GetPeerStatusAsync()).LatestHandshake.Should().NotBeNull();
    }

    [InteropFact]
    public async Task Dispose_RemovesNamespaceProcessAndSocket()
    {
        InteropEnvironment.EnsureReady();
        var (_, pub) = await WgTools.GenKeyPairAsync(_runner);
        var peer = await WireGuardGoPeer.StartAsync(new WireGuardGoPeerOptions
        {
            Address = "100.64.0.1/24",
            Address6 = "fd7a:115c:a1e0::1/64",
            PeerPublicKey = pub,
            PeerAllowedIps = new[] { "100.64.0.2/32", "fd7a:115c:a1e0::2/128" },
            Output = _output,
        });
        var pid = peer.ProcessId;
        File.Exists(peer.SocketPath).Should().BeTrue();
        var addresses = await peer.ExecInNamespaceAsync("ip", "-o", "addr", "show", "dev", peer.TunName);
        addresses.StandardOutput.Should().Contain("100.64.0.1/24").And.Contain("fd7a:115c:a1e0::1/64");

        await peer.DisposeAsync();

        LeftoverCleaner.IsAlive(pid).Should().BeFalse();
        File.Exists(peer.SocketPath).Should().BeFalse();
        var namespaces = await _runner.RunAsync("ip", new[] { "netns", "list" });
        namespaces.StandardOutput.Should().NotContain(peer.Namespace);
    }

    [InteropFact]
    public async Task StartAsync_PortTaken_FailsAndLeavesNothingBehind()
    {
        InteropEnvironment.EnsureReady();
        using var blocker = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        blocker.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Any, 0));
        var taken = ((System.Net.IPEndPoint)blocker.LocalEndPoint!).Port;
        var (_, pub) = await WgTools.GenKeyPairAsync(_runner);

        var start = () => WireGuardGoPeer.StartAsync(new WireGuardGoPeerOptions
        {
            Address = "100.64.0.1/24",
            ListenPort = taken,
            PeerPublicKey = pub,
            Output = _output,
        });

        await start.Should().ThrowAsync<InvalidOperationException>();
        LeftoverCleaner.FindWireGuardGoProcesses().Should().NotContain(p => p.OwnerPid == Environment.ProcessId);
        var namespaces = await _runner.RunAsync("ip", new[] { "netns", "list" });
        var ours = namespaces.StandardOutput.Split('\n')
            .Where(line => ResourceNames.TryParseOwner(line.Split(' ')[0], out var owner) && owner == Environment.ProcessId);
        ours.Should().BeEmpty();
    }

    [InteropFact]
    public async Task NftLoss_DropsUnderlayUntilRemoved()
    {
        InteropEnvironment.EnsureReady();
        if (InteropEnvironment.ResolveTool("nft") is null)
        {
            InteropEnvironment.IsCi.Should().BeFalse("CI installs nftables");
            _output.WriteLine("nft missing; nothing to test");
            return;
        }

        var (keyA, pubA) = await WgTools.GenKeyPairAsync(_runner);
        var (keyB, pubB) = await WgTools.GenKeyPairAsync(_runner);
        var portA = UdpPorts.GetFree();
        var portB = UdpPorts.GetFree();
        await using var a = await WireGuardGoPeer.StartAsync(new WireGuardGoPeerOptions
        {
            Address = "100.64.0.1/24", ListenPort = portA, PrivateKey = keyA, PeerPublicKey = pubB,
            PeerEndpoint = "127.0.0.1:" + portB, PeerAllowedIps = new[] { "100.64.0.2/32" }, Output = _output,
        });
        await using var b = await WireGuardGoPeer.StartAsync(new WireGuardGoPeerOptions
        {
            Address = "100.64.0.2/24", ListenPort = portB, PrivateKey = keyB, PeerPublicKey = pubA,
            PeerEndpoint = "127.0.0.1:" + portA, PeerAllowedIps = new[] { "100.64.0.1/32" }, Output = _output,
        });
        (await a.PingAsync("100.64.0.2", count: 2)).LossPercent.Should().Be(0);

        await using (var loss = await NftLoss.AddRandomDropAsync(_runner, null, new[] { portB }, 100))
        {
            var dropped = await a.PingAsync("100.64.0.2", count: 3, deadlineSeconds: 2);
            dropped.Received.Should().Be(0, dropped.ToString());
            (await loss.GetDroppedPacketsAsync()).Should().BeGreaterThan(0);
        }

        var healed = await a.PingAsync("100.64.0.2", count: 3);
        healed.LossPercent.Should().Be(0, healed.ToString());
    }
}
