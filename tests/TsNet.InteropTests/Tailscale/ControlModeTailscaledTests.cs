using System.Net;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// A TsNet node and a real userspace <c>tailscaled</c> (v1.36.2) on the same test control server: each sees the
/// other in its netmap with the name and addresses the server gave, and without any DERP server they find the direct
/// path with disco and ping each other over it.
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
        // An idle peer has no path yet; pings make disco confirm the direct one (no derper runs here: direct only).
        // tailscaled reports its endpoints after its netcheck, which may be a netmap after the one that brought it.
        var daemonAddress = IPAddress.Parse(status.Self.TailscaleIPs.First(text => !text.Contains(':', StringComparison.Ordinal)));
        await node.WaitUntilAsync(
            server =>
            {
                if (server.GetStatus().Peers.Any(entry => entry.PublicKey == daemonKey && entry.Endpoint is not null))
                {
                    return true;
                }

                _ = server.PingAsync(daemonAddress, TimeSpan.FromSeconds(1)).AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                return false;
            },
            PeerTimeout,
            "seeing tailscaled with a direct path",
            bound.Token);
        var seen = node.Server.GetStatus().Peers.Single(entry => entry.PublicKey == daemonKey);
        seen.DnsName.Should().Be("tsd.tail.test");
        seen.Addresses.Select(address => address.ToString()).Should().BeEquivalentTo(status.Self.TailscaleIPs);
        seen.Endpoint!.Port.Should().Be(daemon.Port, "one of the UDP endpoints tailscaled reported");
        seen.Path.Should().Be("direct " + seen.Endpoint);

        // v1.36.2 tailscaled takes WireGuard from a UDP address only once its own disco confirmed it, and with no DERP
        // here its handshake answers wait for that: the first pings may go unanswered, later ones must not.
        var replied = false;
        for (var attempt = 0; attempt < 20 && !replied; attempt++)
        {
            try
            {
                var rtt = await node.Server.PingAsync(daemonAddress, TimeSpan.FromSeconds(2), bound.Token);
                _log.Write($"ping tailscaled over the direct path: {rtt.TotalMilliseconds:0.0} ms (attempt {attempt + 1})");
                replied = true;
            }
            catch (TimeoutException ex)
            {
                _log.Write($"ping attempt {attempt + 1}: {ex.Message}");
            }
        }

        replied.Should().BeTrue("tailscaled answers pings over the direct path disco confirmed");
        node.Server.GetStatus().Peers.Single(entry => entry.PublicKey == daemonKey).Path.Should().StartWith("direct ");

        rig.Complete();
    }

    private static WireGuardKey WireGuardKeyFromNodeKey(string text)
    {
        text.Should().StartWith("nodekey:");
        return new WireGuardKey(Convert.FromHexString(text["nodekey:".Length..]));
    }
}
