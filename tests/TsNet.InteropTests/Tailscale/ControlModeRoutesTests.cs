using System.Net;
using System.Net.Sockets;
using System.Text;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Subnet routes on a real tailnet: a TsNet node advertises a route (Hostinfo.RoutableIPs), the test server approves
/// it (<c>-approve-routes</c>: it joins the node's AllowedIPs in every netmap), and with a fallback TCP handler the
/// node is a subnet router. A node with <see cref="TailnetServerOptions.AcceptRoutes"/> reaches the handler through
/// it; a node without (the default, as tailscale on Linux) has no route there.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class ControlModeRoutesTests(ITestOutputHelper output)
{
    private const string Key = "tskey-tsnet-routes";
    private static readonly IPNetwork Route = IPNetwork.Parse("10.77.0.0/24");
    private static readonly IPEndPoint Target = new(IPAddress.Parse("10.77.0.5"), 8080);
    private readonly TestLog _log = new(output);

    [TailscaleFact]
    public async Task AdvertisedRoute_ApprovedByTheServer_ReachesTheRoutersHandler_OnlyFromNodesThatAcceptRoutes()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, ApproveRoutes = true }, bound.Token);
        var router = rig.AddNode("router", Key, options => options.AdvertiseRoutes.Add(Route));
        var client = rig.AddNode("client", Key, options => options.AcceptRoutes = true);
        var plain = rig.AddNode("plain", Key);
        await Task.WhenAll(router.UpAsync(bound.Token), client.UpAsync(bound.Token), plain.UpAsync(bound.Token));

        var handled = 0;
        using var registration = router.Server.RegisterFallbackTcpHandler((source, destination) =>
            destination.Equals(Target)
                ? FallbackDecision.Accept(async (connection, cancellationToken) =>
                {
                    Interlocked.Increment(ref handled);
                    var text = Encoding.ASCII.GetBytes($"routed {destination} for {connection.RemoteEndPoint.Address}\n");
                    await connection.WriteAsync(text, cancellationToken);
                    await connection.FlushAsync(cancellationToken);
                })
                : FallbackDecision.Decline);

        // The route reaches the client with a netmap after the router's registration: dial until it is routed (a dial to an
        // unrouted address fails at once), bounded.
        TailnetConnection? routed = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (routed is null)
        {
            try
            {
                routed = await client.Server.ConnectTcpAsync(Target, bound.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.NetworkUnreachable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, bound.Token);
            }
        }

        await using (routed)
        {
            using var reader = new StreamReader(routed, Encoding.ASCII);
            var line = await reader.ReadLineAsync(bound.Token);
            _log.Write($"client → {Target}: {line}");
            line.Should().Be($"routed {Target} for {client.IPv4}", "the router's handler answered for the routed address, seeing the client's tailnet address");
        }

        handled.Should().Be(1);
        var refused = await FluentActions.Awaiting(() => plain.Server.ConnectTcpAsync(Target, bound.Token).AsTask()).Should().ThrowAsync<SocketException>();
        _log.Write($"plain → {Target}: {refused.Which.Message}");
        refused.Which.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable, "a node that does not accept routes has no route to the subnet");
        refused.Which.Message.Should().Contain("10.77.0.5");
        handled.Should().Be(1, "the refused dial never reached the router");
        rig.Complete();
    }
}
