using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// A whole TsNet node in control mode (<see cref="TailnetServerOptions.ControlUrl"/>) joining Tailscale's own test
/// control server (v1.36.2): auth key, refused key, interactive login, a restart from the state directory and an
/// ephemeral node. No root needed; every wait is on a condition, bounded.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class ControlModeLoginTests(ITestOutputHelper output)
{
    private const string GoodKey = "tskey-tsnet-interop";

    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(20);
    private static readonly IPNetwork CgnatRange = IPNetwork.Parse("100.64.0.0/10");

    private readonly TestLog _log = new(output);

    [TailscaleFact]
    public async Task AuthKey_Registers_Running_WithCgnatAddress_AndDnsName()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, AuthKeys = [GoodKey] }, bound.Token);
        var node = rig.AddNode("alpha", GoodKey);

        await node.UpAsync(bound.Token);

        node.Server.State.Should().Be(TailnetState.Running);
        node.Server.AuthUrl.Should().BeNull();
        node.Server.DnsName.Should().Be("alpha.tail.test");
        CgnatRange.Contains(node.IPv4).Should().BeTrue($"{node.IPv4} is a tailnet address");
        node.Server.Addresses.Should().Contain(address => address.AddressFamily == AddressFamily.InterNetworkV6, "the server assigns an IPv6 address too");
        var admin = await Poll.UntilAsync(
            rig.Control.Admin.GetNodesAsync, nodes => nodes.Count == 1 && nodes[0].Online, AdminTimeout, "one node online", bound.Token);
        admin[0].Name.Should().Be("alpha.tail.test.");
        admin[0].Hostname.Should().Be("alpha");
        admin[0].NodeKey.Should().Be(node.NodeKeyText, "the node key is the node's public key");
        admin[0].Addresses.Should().Contain(node.IPv4 + "/32");
        admin[0].Ephemeral.Should().BeFalse();
        node.StateChanges.Select(change => change.State).Should().Contain(TailnetState.Running);
        var status = node.Server.GetStatus();
        status.DnsName.Should().Be("alpha.tail.test");
        status.Addresses.Should().Contain(node.IPv4);
        status.ControlConnected.Should().BeTrue();
        rig.Complete();
    }

    [TailscaleFact]
    public async Task WrongAuthKey_UpThrowsTailnetLoginException_WithTheServersMessage()
    {
        using var bound = new CancellationTokenSource(TestBound);
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, AuthKeys = [GoodKey] }, bound.Token);
        var node = rig.AddNode("alpha", "tskey-wrong");

        var refused = await FluentActions.Awaiting(() => node.UpAsync(bound.Token))
            .Should().ThrowAsync<TailnetLoginException>();

        _log.Write($"refused: {refused.Which.Message}");
        refused.Which.Message.Should().Contain("auth key not accepted by testcontrol", "the message is the server's own (README: -authkey)");
        node.Server.State.Should().NotBe(TailnetState.Running);
        node.Server.DnsName.Should().BeNull();
        (await rig.Control.Admin.GetNodesAsync(bound.Token)).Should().BeEmpty("a refused key creates no node");
        rig.Complete();
    }

    [TailscaleFact]
    public async Task InteractiveLogin_NeedsLoginWithAuthUrl_CompletedByGet_ThenRunning()
    {
        using var bound = new CancellationTokenSource(TestBound);
        using var noKey = AuthKeyEnvironment.Cleared();
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, RequireAuth = true }, bound.Token);
        var node = rig.AddNode("alpha", authKey: null);

        var up = node.UpAsync(bound.Token);
        var needsLogin = await node.WaitForStateChangeAsync(
            change => change.State == TailnetState.NeedsLogin && change.AuthUrl is not null, AdminTimeout, "to NeedsLogin with an AuthUrl", bound.Token);

        up.IsCompleted.Should().BeFalse("UpAsync keeps waiting while the login is pending");
        var pending = await Poll.UntilAsync(
            rig.Control.Admin.GetPendingAuthAsync, list => list.Count == 1, AdminTimeout, "one pending login", bound.Token);
        needsLogin.AuthUrl!.ToString().Should().Be(pending[0].URL);
        pending[0].NodeKey.Should().Be(node.NodeKeyText);
        pending[0].Hostname.Should().Be("alpha");
        node.Server.AuthUrl.Should().Be(needsLogin.AuthUrl, "AuthUrl is set while NeedsLogin");

        await rig.Control.Admin.CompleteAuthAsync(needsLogin.AuthUrl.ToString(), bound.Token);
        await up;

        node.Server.State.Should().Be(TailnetState.Running);
        node.Server.AuthUrl.Should().BeNull("AuthUrl is only set while NeedsLogin");
        node.Server.DnsName.Should().Be("alpha.tail.test");
        (await rig.Control.Admin.GetPendingAuthAsync(bound.Token)).Should().BeEmpty();
        rig.Complete();
    }

    [TailscaleFact]
    public async Task RestartFromStateDirectory_SameNodeAddressAndName_WithoutAuthKey()
    {
        using var bound = new CancellationTokenSource(TestBound);
        using var noKey = AuthKeyEnvironment.Cleared();
        await using var rig = await ControlModeRig.StartAsync(_log, new TestControlServerOptions { StunPort = -1, AuthKeys = [GoodKey] }, bound.Token);
        var first = rig.AddNode("alpha", GoodKey);
        await first.UpAsync(bound.Token);
        var key = first.Server.PublicKey;
        var addresses = first.Server.Addresses.ToList();
        var stateDirectory = first.Options.StateDirectory!;
        await first.DisposeAsync();
        first.Server.State.Should().Be(TailnetState.Stopped);

        var second = rig.AddNode("alpha", authKey: null, stateDirectory: stateDirectory);
        second.Server.PublicKey.Should().Be(key, "the node key comes from the state directory, known before it starts");
        await second.UpAsync(bound.Token);

        second.Server.State.Should().Be(TailnetState.Running);
        second.Server.Addresses.Should().BeEquivalentTo(addresses, "the server gives the same node back");
        second.Server.DnsName.Should().Be("alpha.tail.test");
        second.StateChanges.Should().NotContain(change => change.State == TailnetState.NeedsLogin, "no login is needed for a node the server knows");
        var admin = await Poll.UntilAsync(
            rig.Control.Admin.GetNodesAsync, nodes => nodes.Count == 1 && nodes[0].Online, AdminTimeout, "the one node online again", bound.Token);
        admin[0].NodeKey.Should().Be(second.NodeKeyText);
        admin[0].Name.Should().Be("alpha.tail.test.", "not a second node (alpha-1)");
        rig.Complete();
    }

    [TailscaleFact]
    public async Task EphemeralNode_IsRemovedFromTheServer_WhenDisposed()
    {
        using var bound = new CancellationTokenSource(TestBound);

        // A grace far beyond the wait below: the node disappears because dispose logs it out, not because its stream ended.
        await using var rig = await ControlModeRig.StartAsync(
            _log, new TestControlServerOptions { StunPort = -1, EphemeralGrace = TimeSpan.FromMinutes(10) }, bound.Token);
        var node = rig.AddNode("ephemeral", GoodKey, options => options.Ephemeral = true);
        await node.UpAsync(bound.Token);
        var listed = await Poll.UntilAsync(
            rig.Control.Admin.GetNodesAsync, nodes => nodes.Count == 1 && nodes[0].Online, AdminTimeout, "the ephemeral node online", bound.Token);
        listed[0].Ephemeral.Should().BeTrue();
        listed[0].NodeKey.Should().Be(node.NodeKeyText);

        await node.DisposeAsync();

        await Poll.UntilAsync(
            rig.Control.Admin.GetNodesAsync, nodes => nodes.Count == 0, TimeSpan.FromSeconds(15), "the ephemeral node gone after dispose", bound.Token);
        rig.Complete();
    }
}
