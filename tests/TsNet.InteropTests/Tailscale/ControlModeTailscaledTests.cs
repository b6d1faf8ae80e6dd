using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// A TsNet node and a real userspace <c>tailscaled</c> (v1.36.2) on the same test control server: each sees the
/// other in its netmap with the name and addresses the server gave.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class ControlModeTailscaledTests(ITestOutputHelper output)
{
    private const string GoodKey = "tskey-tsnet-interop";

    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);

    private readonly TestLog _log = new(output);

    [TailscaleFact]
    public async Task Tailscaled_SeesTheTsNetNode_InStatusJson_WithNameAndAddresses()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, AuthKeys = [GoodKey] }, bound.Token);
        var node = rig.AddNode("tsnode", GoodKey);
        await node.UpAsync(bound.Token);
        var daemon = await rig.StartTailscaledAsync(new TailscaledOptions { Name = "ts1" }, bound.Token);
        await daemon.UpAsync(rig.Control.Url, GoodKey, "tsd", cancellationToken: bound.Token);

        var status = await daemon.WaitForStatusAsync(
            s => s.FindPeer("tsnode.tail.test") is { Online: true }, PeerTimeout, "seeing tsnode online", bound.Token);

        var peer = status.FindPeer("tsnode.tail.test")!;
        peer.DNSName.Should().Be("tsnode.tail.test.");
        peer.HostName.Should().Be("tsnode");
        peer.PublicKey.Should().Be(node.NodeKeyText);
        peer.TailscaleIPs.Should().BeEquivalentTo(node.Server.Addresses.Select(address => address.ToString()), "tailscaled knows the addresses the TsNet node has");
        status.Self!.DNSName.Should().Be("tsd.tail.test.");
        var daemonKey = WireGuardKeyFromNodeKey(status.Self.PublicKey);
        // tailscaled reports its endpoints after its netcheck, which may be a netmap after the one that brought it.
        await node.WaitUntilAsync(
            server => server.GetStatus().Peers.Any(entry => entry.PublicKey == daemonKey && entry.Endpoint is not null),
            PeerTimeout,
            "seeing tailscaled with an endpoint",
            bound.Token);
        var seen = node.Server.GetStatus().Peers.Single(entry => entry.PublicKey == daemonKey);
        seen.DnsName.Should().Be("tsd.tail.test");
        seen.Addresses.Select(address => address.ToString()).Should().BeEquivalentTo(status.Self.TailscaleIPs);
        seen.Endpoint!.Port.Should().Be(daemon.Port, "one of the UDP endpoints tailscaled reported");

        // Only the netmap is compared here: v1.36.2 tailscaled accepts WireGuard from a UDP address only after disco
        // (ping/pong) has confirmed it as the peer's path, or over DERP. TsNet speaks neither yet (both come with the
        // DERP and NAT traversal issue), so a ping or a SOCKS5 fetch between the two cannot work in this issue.
        rig.Complete();
    }

    private static WireGuardKey WireGuardKeyFromNodeKey(string text)
    {
        text.Should().StartWith("nodekey:");
        return new WireGuardKey(Convert.FromHexString(text["nodekey:".Length..]));
    }
}
