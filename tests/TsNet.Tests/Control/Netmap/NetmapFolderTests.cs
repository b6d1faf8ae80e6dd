using System.Net;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Registry;
using TsNet.Tests.Netstack;
using static TsNet.Tests.Control.Netmap.NetmapJson;

namespace TsNet.Tests.Control.Netmap;

/// <summary>Folding full maps and deltas into a netmap and registry snapshots (protocol doc §9.3, fixtures A.6).</summary>
public sealed class NetmapFolderTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly PeerRegistry _registry = new();

    private NetmapFolder Folder(bool fullMapsOnly = false, bool acceptRoutes = false) => new(_time, fullMapsOnly, acceptRoutes);

    private static string FullMap(params string[] peers) =>
        """{"Node":SELF,"Domain":"tailnet.example","Peers":[PEERS],"UserProfiles":USERS,"PacketFilter":[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]}],"DNSConfig":{"Domains":["tailnet.example"]},"DERPMap":{"Regions":{"1":{"RegionID":1,"Nodes":[{"Name":"1a","RegionID":1,"HostName":"localhost","InsecureForTests":true}]}}},"ControlTime":"2020-08-03T00:00:00Z"}"""
        .Replace("SELF", Self, StringComparison.Ordinal).Replace("PEERS", string.Join(",", peers), StringComparison.Ordinal).Replace("USERS", Users(1, 2, 3, 4), StringComparison.Ordinal);

    private PeerRegistrySnapshot Apply(NetmapFolder folder, string json) => folder.Apply(Map(json))!.ApplyTo(_registry) ?? _registry.Current;

    [Fact]
    public void FullMap_GivesSelf_PeersWithEveryRegistryField()
    {
        var folder = Folder();

        var update = folder.Apply(Map(FullMap(Peer(2, 0x22, "web", 2), Peer(3, 0x33, "db.tailnet.example.", 3, ""","Tags":["tag:db"],"HomeDERP":4,"KeyExpiry":"2031-02-03T04:05:06Z","Online":false"""))))!;
        var snapshot = update.ApplyTo(_registry)!;

        update.IsFull.Should().BeTrue();
        update.SelfChanged.Should().BeTrue();
        update.FilterChanged.Should().BeTrue();
        update.DerpMapChanged.Should().BeTrue();
        update.DnsChanged.Should().BeTrue();
        var netmap = update.Netmap;
        netmap.SelfNames.Should().Be(new NodeNames("self", "self.tailnet.example"));
        netmap.SelfAddresses.Should().Equal(IPAddress.Parse("100.64.0.1"), IPAddress.Parse("fd7a:115c:a1e0:ab12:4843:cd96:6240:1"));
        netmap.Domain.Should().Be("tailnet.example");
        netmap.DerpMap!.Regions![1]!.Nodes![0].InsecureForTests.Should().BeTrue();
        netmap.PacketFilter!.Value.GetArrayLength().Should().Be(1);
        netmap.ControlTime.Should().Be(new DateTimeOffset(2020, 8, 3, 0, 0, 0, TimeSpan.Zero));
        netmap.UserProfiles.Should().HaveCount(4);

        snapshot.Count.Should().Be(2);
        var web = snapshot.FindByName("web")!;
        web.Should().BeSameAs(snapshot.FindByName("web.tailnet.example"), "an undotted name gets the tailnet domain");
        web.NodeKey.Should().Be(Key(0x22));
        web.Source.Should().Be(PeerSource.Netmap);
        web.Addresses.Should().Equal(IPAddress.Parse("100.64.0.2"), IPAddress.Parse("fd7a:115c:a1e0:ab12:4843:cd96:6240:2"));
        web.AllowedIps.Should().Equal(IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("fd7a:115c:a1e0:ab12:4843:cd96:6240:2/128"));
        web.Endpoint.Should().Be("192.0.2.2:41641");
        web.Endpoints.Should().Equal("192.0.2.2:41641");
        web.HomeDerpRegion.Should().Be(1, "the legacy DERP string of the Go test server");
        web.Online.Should().BeTrue();
        web.KeyExpiry.Should().BeNull("Go's zero time means no expiry");
        web.DiscoKey.ToString().Should().Be("discokey:" + new string('d', 64));
        web.UserLoginName.Should().Be("user-2@fake-control.example.net");
        web.UserDisplayName.Should().Be("User 2");
        web.Tags.Should().BeEmpty();

        var db = snapshot.FindByAddress(IPAddress.Parse("100.64.0.3"))!;
        db.Name.Should().Be("db");
        db.DnsName.Should().Be("db.tailnet.example");
        db.Tags.Should().Equal("tag:db");
        db.HomeDerpRegion.Should().Be(4, "HomeDERP wins over the legacy string");
        db.KeyExpiry.Should().Be(new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.Zero));
        db.Online.Should().BeFalse();
        db.Identity.UserLoginName.Should().Be("user-3@fake-control.example.net");
    }

    [Fact]
    public void KeepAlive_AndMessagesBeforeTheFirstSelf_ChangeNothing()
    {
        var folder = Folder();

        folder.Apply(Map("""{"KeepAlive":true}""")).Should().BeNull();
        folder.Apply(Map($$"""{"Peers":[{{Peer(2, 0x22, "web", 2)}}]}""")).Should().BeNull();
        folder.Current.Should().BeNull();

        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));
        folder.Apply(Map("""{"KeepAlive":true,"ControlTime":"2021-01-01T00:00:00Z"}""")).Should().BeNull();
        folder.Current!.Peers.Should().HaveCount(1);
    }

    [Fact]
    public void PeersChanged_ReplacesTheWholeNode_OnlyChangedPeersAreRebuilt()
    {
        var folder = Folder();
        var first = Apply(folder, FullMap(Peer(2, 0x22, "web", 2), Peer(3, 0x33, "db", 3)));
        var db = first.FindByName("db");

        var update = folder.Apply(Map($$"""{"PeersChanged":[{{Peer(2, 0x22, "web2", 12)}}]}"""))!;
        var snapshot = update.ApplyTo(_registry)!;

        update.IsFull.Should().BeFalse();
        update.Upserts.Should().ContainSingle().Which.Name.Should().Be("web2");
        update.Removals.Should().Equal(Key(0x22));
        snapshot.FindByName("web").Should().BeNull();
        snapshot.FindByName("web2")!.Addresses.Should().Contain(IPAddress.Parse("100.64.0.12"));
        snapshot.FindByName("db").Should().BeSameAs(db, "an unchanged peer keeps its entry");
        snapshot.FindByName("web2")!.Endpoints.Should().Equal("192.0.2.12:41641");
    }

    [Fact]
    public void PeersRemoved_AndAddedInOneMessage()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2), Peer(3, 0x33, "db", 3)));

        var snapshot = Apply(folder, $$"""{"PeersRemoved":[2,99],"PeersChanged":[{{Peer(4, 0x44, "cache", 4)}}]}""");

        snapshot.Peers.Select(p => p.Name).Should().BeEquivalentTo("db", "cache");
        folder.Current!.Peers.Select(p => p.ID).Should().BeEquivalentTo([3L, 4L]);
    }

    [Fact]
    public void PeersChangedPatch_PatchesFields_UnknownIdsSkipped_AbsentFieldsKept()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var snapshot = Apply(folder, """
            {"PeersChangedPatch":[
              {"NodeID":2,"DERPRegion":9,"Endpoints":["198.51.100.1:1234"],"Online":false,"KeyExpiry":"2032-01-01T00:00:00Z",
               "DiscoKey":"discokey:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"},
              {"NodeID":77,"Online":true}]}
            """);

        var web = snapshot.FindByName("web")!;
        web.HomeDerpRegion.Should().Be(9);
        web.Endpoints.Should().Equal("198.51.100.1:1234");
        web.Endpoint.Should().Be("198.51.100.1:1234");
        web.Online.Should().BeFalse();
        web.KeyExpiry.Should().Be(new DateTimeOffset(2032, 1, 1, 0, 0, 0, TimeSpan.Zero));
        web.DiscoKey.ToString().Should().Be("discokey:" + new string('e', 64));
        web.Addresses.Should().Contain(IPAddress.Parse("100.64.0.2"), "a patch leaves other fields alone");
        folder.PeerCount.Should().Be(1);
    }

    [Fact]
    public void PatchedNodeKey_ReplacesTheOldKeyInTheRegistry()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var update = folder.Apply(Map($$"""{"PeersChangedPatch":[{"NodeID":2,"Key":"{{NodeKey(0x55)}}"}]}"""))!;
        var snapshot = update.ApplyTo(_registry)!;

        update.Removals.Should().Equal(Key(0x22));
        snapshot.TryGet(Key(0x22), out _).Should().BeFalse();
        snapshot.TryGet(Key(0x55), out var moved).Should().BeTrue();
        moved.Name.Should().Be("web");
    }

    [Fact]
    public void OnlineChange_AndPeerSeenChange()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));
        _time.Advance(TimeSpan.FromMinutes(5));

        var offline = folder.Apply(Map("""{"OnlineChange":{"2":false},"PeerSeenChange":{"2":true}}"""))!;
        offline.ApplyTo(_registry)!.FindByName("web")!.Online.Should().BeFalse();
        offline.Netmap.Peers.Single().LastSeen.Should().Be(_time.GetUtcNow());

        var cleared = folder.Apply(Map("""{"PeerSeenChange":{"2":false}}"""))!;
        cleared.RegistryUnchanged.Should().BeTrue("last-seen is not a registry field");
        cleared.ApplyTo(_registry).Should().BeNull();
        cleared.Netmap.Peers.Single().LastSeen.Should().BeNull();
    }

    [Fact]
    public void FilterDnsDerp_AbsentIsUnchanged_EmptyFilterAllowsNothing()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var unchanged = folder.Apply(Map("""{"OnlineChange":{"2":false}}"""))!;
        unchanged.FilterChanged.Should().BeFalse();
        unchanged.DnsChanged.Should().BeFalse();
        unchanged.DerpMapChanged.Should().BeFalse();
        unchanged.Netmap.PacketFilter!.Value.GetArrayLength().Should().Be(1);
        unchanged.Netmap.DnsConfig!.Domains.Should().Equal("tailnet.example");
        unchanged.Netmap.DerpMap!.Regions.Should().ContainKey(1);

        var empty = folder.Apply(Map("""{"PacketFilter":[],"DNSConfig":{"Domains":["other.example"]}}"""))!;
        empty.FilterChanged.Should().BeTrue();
        empty.Netmap.PacketFilter!.Value.GetArrayLength().Should().Be(0);
        empty.Netmap.DnsConfig!.Domains.Should().Equal("other.example");
    }

    [Fact]
    public void NamedFilterChunks_ConcatenateByName_NullDeletes_StarClears()
    {
        var folder = Folder();
        Apply(folder, $$$"""{"Node":{{{Self}}},"PacketFilters":{"b":[{"SrcIPs":["2"]}],"a":[{"SrcIPs":["1"]}]}}""");
        folder.Current!.PacketFilter!.Value.EnumerateArray().Select(r => r.GetProperty("SrcIPs")[0].GetString()).Should().Equal("1", "2");

        folder.Apply(Map("""{"PacketFilters":{"a":null}}"""));
        folder.Current!.PacketFilter!.Value.EnumerateArray().Select(r => r.GetProperty("SrcIPs")[0].GetString()).Should().Equal("2");

        folder.Apply(Map("""{"PacketFilter":[{"SrcIPs":["0"]}]}"""));
        folder.Current!.PacketFilter!.Value.EnumerateArray().Select(r => r.GetProperty("SrcIPs")[0].GetString()).Should().Equal("2", "0");

        folder.Apply(Map("""{"PacketFilters":{"*":null,"c":[{"SrcIPs":["3"]}]}}"""));
        folder.Current!.PacketFilter!.Value.EnumerateArray().Select(r => r.GetProperty("SrcIPs")[0].GetString()).Should().Equal("3");
    }

    [Fact]
    public void NoFilterYet_IsNull()
    {
        var folder = Folder();
        folder.Apply(Map($$"""{"Node":{{Self}}}"""))!.Netmap.PacketFilter.Should().BeNull();
    }

    [Fact]
    public void NewDomainOrUserProfile_RebuildsEveryEntry()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var renamed = folder.Apply(Map("""{"Domain":"new.example"}"""))!;
        renamed.IsFull.Should().BeTrue();
        renamed.ApplyTo(_registry)!.FindByName("web.new.example").Should().NotBeNull();

        var user = folder.Apply(Map("""{"UserProfiles":[{"ID":2,"LoginName":"renamed@example","DisplayName":"R"}]}"""))!;
        user.IsFull.Should().BeTrue();
        user.ApplyTo(_registry)!.FindByName("web")!.UserLoginName.Should().Be("renamed@example");

        folder.Apply(Map("""{"UserProfiles":[{"ID":2,"LoginName":"renamed@example","DisplayName":"R"}]}"""))!
            .IsFull.Should().BeFalse("the same profile again changes nothing");
    }

    [Fact]
    public void FullMapsOnly_NodeWithoutPeers_MeansNoPeers()
    {
        var folder = Folder(fullMapsOnly: true);
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var snapshot = Apply(folder, $$"""{"Node":{{Self}},"Domain":"tailnet.example"}""");

        snapshot.Count.Should().Be(0);
        folder.PeerCount.Should().Be(0);
    }

    [Fact]
    public void FullMapsOnly_SelfNodeAloneAfterAWholeMap_IsADelta_KeepsPeers_AndLaterMessagesToo()
    {
        // The Go test server with -deltas: a whole map, then a message with only the node itself (its own endpoints
        // changed); the peers stay, and from then on the server counts as one that sends deltas.
        var folder = Folder(fullMapsOnly: true);
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var update = folder.Apply(Map($$"""{"Node":{{Self}}}"""))!;

        update.SelfChanged.Should().BeTrue();
        update.RegistryUnchanged.Should().BeTrue();
        folder.PeerCount.Should().Be(1);
        folder.Apply(Map($$"""{"Node":{{Self}},"Domain":"tailnet.example"}"""));
        folder.PeerCount.Should().Be(1, "a delta server's message without Peers leaves them unchanged");
    }

    [Fact]
    public void DeltaServer_NodeWithoutPeers_KeepsPeers()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var update = folder.Apply(Map($$"""{"Node":{{Self}}}"""))!;

        update.SelfChanged.Should().BeTrue();
        update.RegistryUnchanged.Should().BeTrue();
        folder.PeerCount.Should().Be(1);
    }

    [Fact]
    public void EmptyPeerList_IsACompleteEmptyList()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        Apply(folder, """{"Peers":[]}""").Count.Should().Be(0);
    }

    [Fact]
    public void BadPeers_AreSkipped_OneByOne_NeverTheWholeMap()
    {
        var folder = Folder(acceptRoutes: true);
        var badKey = Peer(3, 0x33, "badkey", 3).Replace(NodeKey(0x33), "mkey:" + new string('3', 64));
        var noKey = """{"ID":4,"Name":"nokey","Addresses":["100.64.0.4/32"]}""";
        var expired = Peer(5, 0x55, "expired", 5, ""","Expired":true""");
        var duplicate = Peer(6, 0x22, "dup", 6);
        var self = Peer(8, 0x01, "me-again", 8);
        var badFields = """
            {"ID":7,"Name":"messy","Key":"nodekey:7777777777777777777777777777777777777777777777777777777777777777",
             "Addresses":["100.64.0.7/32","not-an-ip","300.1.1.1/32","100.64.0.77/40"],"AllowedIPs":["10.1.2.3/8","bad"],
             "Endpoints":["nope","192.0.2.7","192.0.2.7:7"],"DERP":"127.3.3.40:x","DiscoKey":"discokey:short"}
            """;

        var update = folder.Apply(Map(FullMap(Peer(2, 0x22, "web", 2), badKey, noKey, expired, duplicate, badFields, self)))!;
        var snapshot = update.ApplyTo(_registry)!;

        update.SkippedPeers.Should().Be(5, "bad key, no key, expired, duplicate key, the self node's key");
        update.Netmap.Peers.Should().HaveCount(7, "the map keeps what the server sent; only the registry leaves them out");
        snapshot.Peers.Select(p => p.Name).Should().BeEquivalentTo("web", "messy");
        var messy = snapshot.FindByName("messy")!;
        messy.Addresses.Should().Equal(IPAddress.Parse("100.64.0.7"));
        messy.AllowedIps.Should().Equal(IPNetwork.Parse("10.0.0.0/8"));
        messy.Endpoints.Should().Equal("192.0.2.7:7");
        messy.HomeDerpRegion.Should().Be(0);
        messy.DiscoKey.IsEmpty.Should().BeTrue();
    }

    [Theory]
    [InlineData(false, new[] { "100.64.0.2/32", "fd7a:115c:a1e0:ab12:4843:cd96:6240:2/128" })]
    [InlineData(true, new[] { "100.64.0.2/32", "fd7a:115c:a1e0:ab12:4843:cd96:6240:2/128", "10.0.0.0/8", "fd00:1::/64" })]
    public void SubnetRoutes_OnlyWhenAccepted_DefaultRoutesNever(bool acceptRoutes, string[] expected)
    {
        var folder = Folder(acceptRoutes: acceptRoutes);
        var router = Peer(2, 0x22, "router", 2, ""","AllowedIPs":["100.64.0.2/32","fd7a:115c:a1e0:ab12:4843:cd96:6240:2/128","10.0.0.0/8","fd00:1::/64","0.0.0.0/0","::/0"],"PrimaryRoutes":["10.0.0.0/8"]""");

        var snapshot = Apply(folder, FullMap(router));

        var peer = snapshot.FindByName("router")!;
        peer.AllowedIps.Should().Equal(expected.Select(IPNetwork.Parse));
        peer.Addresses.Should().HaveCount(2);
        snapshot.FindByAddress(IPAddress.Parse("10.1.2.3")).Should().Be(acceptRoutes ? peer : null);
        snapshot.FindByAddress(IPAddress.Parse("8.8.8.8")).Should().BeNull();
    }

    [Fact]
    public void KeyMovingBetweenPeersInOneDelta_LandsOnItsNewOwner()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));

        var snapshot = Apply(folder, $$"""{"PeersRemoved":[2],"PeersChanged":[{{Peer(9, 0x22, "web-new", 9)}}]}""");

        snapshot.Count.Should().Be(1);
        snapshot.TryGet(Key(0x22), out var peer).Should().BeTrue();
        peer.Name.Should().Be("web-new");
    }

    [Fact]
    public void TooManyPeers_IsRefused_BeforeAnythingChanges()
    {
        var folder = Folder();
        Apply(folder, FullMap(Peer(2, 0x22, "web", 2)));
        var many = new MapResponse { Peers = [.. Enumerable.Range(0, PeerRegistry.MaxPeers + 1).Select(i => new Node { ID = i })] };

        var apply = () => folder.Apply(many);

        apply.Should().Throw<ControlProtocolException>().WithMessage("*at most 65536*");
        folder.PeerCount.Should().Be(1);
    }

    [Fact]
    public void SaasFirstMap_WithPeersChanged_FoldsIntoTheRegistry()
    {
        var folder = Folder();

        var snapshot = Apply(folder, Protocol.ControlJsonFixtures.SaasMapResponse);

        folder.Current!.SelfNames.Should().Be(new NodeNames("tailscale-rs1", "tailscale-rs1.tail252fff.ts.net"));
        var relay = snapshot.FindByName("relay.tail252fff.ts.net")!;
        relay.Name.Should().Be("relay");
        relay.HomeDerpRegion.Should().Be(1);
        relay.AllowedIps.Should().HaveCount(2, "AllowedIPs null means the addresses");
        relay.UserDisplayName.Should().Be("Bogus Test");
    }
}
