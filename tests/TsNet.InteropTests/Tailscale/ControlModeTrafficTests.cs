using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Two TsNet nodes on a tailnet of Tailscale's test control server, talking over direct UDP (no DERP, no STUN):
/// TCP by short and full name, WhoIs on both ends, a peer removed by the server, and the server's packet filter.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class ControlModeTrafficTests(ITestOutputHelper output)
{
    private const string GoodKey = "tskey-tsnet-interop";

    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);

    // How long a dial the filter drops is given before it counts as "got nothing".
    private static readonly TimeSpan BlockedDialTimeout = TimeSpan.FromSeconds(5);

    private readonly TestLog _log = new(output);

    private static TimeSpan TestBound => TimeSpan.FromSeconds(90) + TestScale.Bound(TimeSpan.FromSeconds(30));

    [TailscaleFact]
    public async Task TwoNodes_TcpByShortAndFullName_ByteExact_OverDirectUdp_AndWhoIsOnBothEnds()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1 }, bound.Token);
        var (alpha, beta) = await UpPairAsync(rig, bound.Token);
        await using var echo = await TailnetEchoServer.StartAsync(beta.Server, OverlayPorts.Next(), "beta", _log, bound.Token);
        var bytes = TestScale.TransferBytes;

        foreach (var (target, seed) in new[] { ($"beta:{echo.Port}", 11UL), ($"beta.tail.test:{echo.Port}", 12UL) })
        {
            await using var connection = await alpha.Server.ConnectTcpAsync(target, bound.Token);
            connection.RemoteEndPoint.Address.Should().Be(beta.IPv4, $"{target} resolves against the netmap");
            var back = await TailnetEchoServer.ExchangeAsync(connection, bytes, seed, bound.Token);
            _log.Write($"{target}: {back}");
            back.Should().Be(new TransferDigest(bytes, TestData.Sha256(bytes, seed)), $"the echo over {target} is byte-exact");

            // WhoIs on both ends while the connection is open.
            var betaSeen = await alpha.Server.WhoIsAsync(connection.RemoteEndPoint, bound.Token);
            var alphaSeen = await beta.Server.WhoIsAsync(echo.Remotes[^1], bound.Token);
            await ExpectIdentityAsync(rig, betaSeen, beta, bound.Token);
            await ExpectIdentityAsync(rig, alphaSeen, alpha, bound.Token);
        }

        echo.Accepted.Should().Be(2);
        var path = alpha.Server.GetStatus().Peers.Single(peer => peer.PublicKey == beta.Server.PublicKey);
        _log.Write($"alpha → beta: endpoint {path.Endpoint}, session {path.SessionState}, rx {path.RxBytes}, tx {path.TxBytes}");
        path.Endpoint.Should().NotBeNull();
        path.Endpoint!.Port.Should().Be(beta.Server.ListenPort, "direct UDP to beta's own socket (no DERP in this test)");
        path.RxBytes.Should().BeGreaterThan(2 * bytes, "both echoes came back over this path");
        path.Path.Should().Be("direct " + path.Endpoint);
        path.DnsName.Should().Be("beta.tail.test");
        path.Addresses.Should().Contain(beta.IPv4);
        path.Online.Should().BeTrue("beta holds a map stream");
        var self = alpha.Server.GetStatus();
        self.DnsName.Should().Be("alpha.tail.test");
        self.ControlConnected.Should().BeTrue();
        self.Endpoints.Should().Contain(endpoint => endpoint.Port == alpha.Server.ListenPort, "the endpoints reported to the server");
        rig.Complete();
    }

    [TailscaleFact]
    public async Task RemovedPeer_DisappearsFromStatus_AndDialsToItFailClearly()
    {
        using var bound = new CancellationTokenSource(TestBound);

        // -deltas: README — a full map whose peer list became empty omits Peers; PeersRemoved says it.
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, Deltas = true }, bound.Token);
        var (alpha, beta) = await UpPairAsync(rig, bound.Token);
        await using var echo = await TailnetEchoServer.StartAsync(beta.Server, OverlayPorts.Next(), "beta", _log, bound.Token);
        await using (var before = await alpha.Server.ConnectTcpAsync($"beta:{echo.Port}", bound.Token))
        {
            (await TailnetEchoServer.ExchangeAsync(before, 1000, 21, bound.Token)).Bytes.Should().Be(1000, "beta answered before its removal");
        }

        var betaAddress = beta.IPv4;
        await rig.Control.Admin.DeleteNodeAsync(beta.NodeKeyText, bound.Token);

        await alpha.WaitUntilAsync(_ => !alpha.HasPeer(beta.Server.PublicKey), PeerTimeout, "beta gone from the status", bound.Token);
        var byName = await FluentActions.Awaiting(() => alpha.Server.ConnectTcpAsync($"beta:{echo.Port}", bound.Token).AsTask())
            .Should().ThrowAsync<ArgumentException>();
        _log.Write($"dial by name: {byName.Which.Message}");
        byName.Which.Message.Should().Contain("beta", "the error names what could not be dialed");
        var byAddress = await FluentActions.Awaiting(() => alpha.Server.ConnectTcpAsync(new IPEndPoint(betaAddress, echo.Port), bound.Token).AsTask())
            .Should().ThrowAsync<SocketException>();
        _log.Write($"dial by address: {byAddress.Which.Message}");
        byAddress.Which.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable);
        byAddress.Which.Message.Should().Contain(betaAddress.ToString());
        rig.Complete();
    }

    [TailscaleFact]
    public async Task FilterChange_AllowedPortWorks_OtherPortGetsNothing_DeleteRestores()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1 }, bound.Token);
        var (alpha, beta) = await UpPairAsync(rig, bound.Token);
        await using var allowed = await TailnetEchoServer.StartAsync(beta.Server, OverlayPorts.Next(), "beta", _log, bound.Token);
        await using var other = await TailnetEchoServer.StartAsync(beta.Server, OverlayPorts.Next(), "beta", _log, bound.Token);
        (await TryEchoAsync(alpha, other.Port, bound.Token)).Should().BeNull("allow-all before the filter changes");

        // README example: only TCP <allowed> from alpha to beta.
        var rules = $$$"""[{"SrcIPs":["{{{alpha.IPv4}}}"],"DstPorts":[{"IP":"{{{beta.IPv4}}}","Ports":{"First":{{{allowed.Port}}},"Last":{{{allowed.Port}}}}}],"IPProto":[6]}]""";
        await rig.Control.Admin.SetFilterAsync(rules, bound.Token);

        // The filter reaches beta with its next map: wait until the other port stops answering.
        await Poll.UntilAsync(ct => TryEchoAsync(alpha, other.Port, ct), failure => failure is not null, PeerTimeout, "the other port blocked", bound.Token);
        var acceptedBefore = other.Accepted;
        (await TryEchoAsync(alpha, allowed.Port, bound.Token)).Should().BeNull("the allowed port still works");
        var blocked = await TryEchoAsync(alpha, other.Port, bound.Token);
        blocked.Should().NotBeNull("the other port gets nothing");
        _log.Write($"dial to the other port: {blocked}");
        other.Accepted.Should().Be(acceptedBefore, "no connection to the other port reached beta's listener");

        await rig.Control.Admin.DeleteFilterAsync(bound.Token);
        await Poll.UntilAsync(ct => TryEchoAsync(alpha, other.Port, ct), failure => failure is null, PeerTimeout, "the other port open again", bound.Token);
        (await TryEchoAsync(alpha, allowed.Port, bound.Token)).Should().BeNull();
        rig.Complete();
    }

    /// <summary>Starts alpha and beta (concurrently) and waits until each lists the other as a peer.</summary>
    internal static async Task<(ControlModeNode Alpha, ControlModeNode Beta)> UpPairAsync(ControlModeRig rig, CancellationToken cancellationToken, string authKey = GoodKey)
    {
        var alpha = rig.AddNode("alpha", authKey);
        var beta = rig.AddNode("beta", authKey);
        await Task.WhenAll(alpha.UpAsync(cancellationToken), beta.UpAsync(cancellationToken));
        await alpha.WaitUntilAsync(_ => alpha.HasPeer(beta.Server.PublicKey), PeerTimeout, "seeing beta", cancellationToken);
        await beta.WaitUntilAsync(_ => beta.HasPeer(alpha.Server.PublicKey), PeerTimeout, "seeing alpha", cancellationToken);
        return (alpha, beta);
    }

    /// <summary>One short echo to <paramref name="port"/> of beta by name; null when it worked, else why not (bounded).</summary>
    private async Task<string?> TryEchoAsync(ControlModeNode alpha, int port, CancellationToken cancellationToken)
    {
        using var dial = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        dial.CancelAfter(BlockedDialTimeout);
        try
        {
            await using var connection = await alpha.Server.ConnectTcpAsync($"beta:{port}", dial.Token);
            var back = await TailnetEchoServer.ExchangeAsync(connection, 100, (ulong)port, dial.Token);
            return back == new TransferDigest(100, TestData.Sha256(100, (ulong)port)) ? null : $"wrong echo {back}";
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static async Task ExpectIdentityAsync(ControlModeRig rig, TailnetPeerIdentity? identity, ControlModeNode node, CancellationToken cancellationToken)
    {
        var admin = (await rig.Control.Admin.GetNodesAsync(cancellationToken)).Single(entry => entry.NodeKey == node.NodeKeyText);
        identity.Should().NotBeNull($"WhoIs knows {node.Name}");
        identity!.DnsName?.TrimEnd('.').Should().Be(node.Name + ".tail.test");
        identity.DnsName.Should().NotBeNull();
        identity.HostName.Should().Be(node.Name);
        identity.NodeKey.Should().Be(node.Server.PublicKey);
        identity.Addresses.Should().Contain(node.IPv4);
        identity.UserLoginName.Should().Be(admin.User, "the user profile of the netmap");
        identity.UserLoginName.Should().EndWith("@fake-control.example.net");
    }
}
