using System.Net;

namespace TsNet.Tests.Facade;

/// <summary>Options for relay paths: the node's disco key, validation of <see cref="TailnetPeer.Relay"/>, snapshot copies.</summary>
public sealed class RelayPathOptionsTests
{
    private static TailnetServerOptions Options(TailnetPeer? peer = null)
    {
        var options = new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") } };
        if (peer is not null)
        {
            options.Peers.Add(peer);
        }

        return options;
    }

    private static TailnetRelayPath ValidPath() => new()
    {
        Address = IPEndPoint.Parse("127.0.0.1:3478"),
        ServerDiscoKey = DiscoKey.Generate().PublicKey,
        Vni = 7,
        PeerDiscoKey = DiscoKey.Generate().PublicKey,
    };

    [Fact]
    public async Task DiscoKey_GeneratedWhenAbsent_KeptWhenGiven()
    {
        await using var generated = new TailnetServer(Options());
        await using var other = new TailnetServer(Options());
        generated.DiscoPublicKey.IsEmpty.Should().BeFalse();
        generated.DiscoPublicKey.Should().NotBe(other.DiscoPublicKey);

        var key = DiscoKey.Generate();
        var options = Options();
        options.DiscoKey = key;
        await using var given = new TailnetServer(options);
        given.DiscoPublicKey.Should().Be(key.PublicKey);
    }

    [Theory]
    [InlineData("address")]
    [InlineData("vni0")]
    [InlineData("vniTooLarge")]
    [InlineData("server")]
    [InlineData("peer")]
    [InlineData("same")]
    [InlineData("wildcard")]
    public void InvalidRelayPath_IsRejected_NamingTheSetting(string what)
    {
        var path = ValidPath();
        var expected = what switch
        {
            "address" => "*Relay.Address is required*",
            "vni0" or "vniTooLarge" => "*Relay.Vni*",
            "server" or "peer" => "*Relay.ServerDiscoKey and Relay.PeerDiscoKey are required*",
            "same" => "*equals Relay.ServerDiscoKey*",
            _ => "*not a unicast*",
        };
        switch (what)
        {
            case "address": path.Address = null; break;
            case "vni0": path.Vni = 0; break;
            case "vniTooLarge": path.Vni = 1u << 24; break;
            case "server": path.ServerDiscoKey = default; break;
            case "peer": path.PeerDiscoKey = default; break;
            case "same": path.PeerDiscoKey = path.ServerDiscoKey; break;
            case "wildcard": path.Address = new IPEndPoint(IPAddress.Any, 3478); break;
        }

        var act = () => new TailnetServer(Options(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Relay = path }));
        act.Should().Throw<ArgumentException>().WithMessage(expected);
    }

    [Fact]
    public async Task RelayPath_IsCopied_LaterChangesDoNotLeakIn()
    {
        var path = ValidPath();
        path.Vni = (1u << 24) - 1;
        var peer = new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Relay = path };
        await using var node = new TailnetServer(Options(peer));
        path.Vni = 0; // invalid now, but the node took a copy
        path.Address!.Port = 1;
        await node.StartAsync();
        await WaitForPeerEndpointAsync(node, IPEndPoint.Parse("127.0.0.1:3478"));
    }

    private static async Task WaitForPeerEndpointAsync(TailnetServer node, IPEndPoint expected)
    {
        // Peers apply asynchronously after start: bounded polling.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (node.GetStatus().Peers.SingleOrDefault()?.Endpoint is not { } endpoint || !endpoint.Equals(expected))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, $"the relayed peer's endpoint should become {expected}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task TwoPeersOnOneRelayEndpoint_AreRejected_InOptionsAndAtRuntime()
    {
        var path = ValidPath();
        var options = Options(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Relay = path });
        var samePair = ValidPath();
        samePair.Address = path.Address;
        samePair.Vni = path.Vni;
        options.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Relay = samePair });
        var both = () => new TailnetServer(options);
        both.Should().Throw<ArgumentException>().WithMessage("*VNI 7*already the path of peer*");

        var first = new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Relay = path };
        await using var node = new TailnetServer(Options(first));
        var second = () => node.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Relay = path });
        second.Should().Throw<ArgumentException>().WithMessage("*already the path of peer*");
        node.AddOrUpdatePeer(new TailnetPeer { PublicKey = first.PublicKey, Relay = path }); // updating the same peer is fine
        var elsewhere = ValidPath();
        elsewhere.Vni = 8;
        node.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Relay = elsewhere });
    }

    [Fact]
    public void FromEndpoint_TakesTheEndpointsValues_AndRejectsAKeyThatIsNotAClient()
    {
        var server = DiscoKey.Generate().PublicKey;
        var a = DiscoKey.Generate().PublicKey;
        var b = DiscoKey.Generate().PublicKey;
        var addresses = new[] { IPEndPoint.Parse("203.0.113.1:3478"), IPEndPoint.Parse("127.0.0.1:4000") };
        var endpoint = new RelayEndpoint(server, a, b, 1, 42, addresses, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));

        var path = TailnetRelayPath.FromEndpoint(endpoint, b, addressIndex: 1);
        path.Address.Should().Be(addresses[1]);
        path.ServerDiscoKey.Should().Be(server);
        path.Vni.Should().Be(42);
        path.PeerDiscoKey.Should().Be(b);

        var stranger = () => TailnetRelayPath.FromEndpoint(endpoint, DiscoKey.Generate().PublicKey);
        stranger.Should().Throw<ArgumentException>().WithMessage("*not a client*");
        var badIndex = () => TailnetRelayPath.FromEndpoint(endpoint, a, addressIndex: 2);
        badIndex.Should().Throw<ArgumentOutOfRangeException>();
    }
}
