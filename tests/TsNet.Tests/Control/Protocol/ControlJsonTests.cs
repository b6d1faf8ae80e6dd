using System.Text;
using System.Text.Json;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Protocol;

/// <summary>tailcfg JSON both ways (fixtures A.5, A.7; protocol doc §8, §9, §11).</summary>
public sealed class ControlJsonTests
{
    private static T Parse<T>(string json) =>
        (T)JsonSerializer.Deserialize(json, typeof(T), ControlJsonContext.Default)!;

    private static string Write<T>(T value) => JsonSerializer.Serialize(value, typeof(T), ControlJsonContext.Default);

    [Fact]
    public void SaasNode_Parses_EveryFieldTsNetUses()
    {
        var node = Parse<Node>(ControlJsonFixtures.SaasNode);

        node.ID.Should().Be(1679275757477108);
        node.StableID.Should().Be("nT8AH9jY7E11CNTRL");
        node.Name.Should().Be("relay.tail252fff.ts.net.");
        node.User.Should().Be(7326703659639870);
        node.Key.Should().Be("nodekey:a57413f6734a12fa6f50e600891517deef4d324ea63de8915da511550a20a23f");
        node.KeyExpiry.Should().Be(new DateTimeOffset(2026, 1, 25, 18, 31, 27, TimeSpan.Zero));
        node.DiscoKey.Should().StartWith("discokey:7f12");
        node.Addresses.Should().Equal("100.96.162.64/32", "fd7a:115c:a1e0::a01:a241/128");
        node.AllowedIPs.Should().BeNull();
        node.Endpoints.Should().Equal("18.217.166.210:41641", "172.31.33.196:41641");
        node.HomeDERP.Should().Be(1);
        node.DERP.Should().Be("127.3.3.40:12");
        node.EffectiveHomeDerp.Should().Be(1, "HomeDERP wins over the legacy string when both are there");
        node.Hostinfo!.Hostname.Should().Be("relay");
        node.Hostinfo.Services.Should().HaveCount(2);
        node.Hostinfo.Services![0].Should().Be(new HostService { Proto = "peerapi4", Port = 36297 });
        node.Created!.Value.Ticks.Should().Be(new DateTimeOffset(2025, 7, 29, 18, 31, 27, TimeSpan.Zero).Ticks + 5505358);
        node.Cap.Should().Be(127);
        node.Tags.Should().BeNull();
        node.Online.Should().BeTrue();
    }

    [Fact]
    public void SaasMapResponse_Parses_UnknownFieldsIgnored_FilterKeptRaw()
    {
        var map = Parse<MapResponse>(ControlJsonFixtures.SaasMapResponse);

        map.KeepAlive.Should().BeFalse();
        map.Node!.CapMap.Should().HaveCount(9);
        map.Node.CapMap!["https://tailscale.com/cap/is-admin"].ValueKind.Should().Be(JsonValueKind.Null);
        map.Node.DiscoKey.Should().Be("discokey:" + new string('0', 64));
        map.DERPMap!.Regions![1]!.Nodes.Should().HaveCount(2);
        map.DERPMap.Regions[1]!.Nodes![1].STUNOnly.Should().BeTrue();
        map.DERPMap.Regions[1]!.Latitude.Should().Be(40.7128);
        map.PeersChanged.Should().ContainSingle().Which.ID.Should().Be(1679275757477108);
        map.Peers.Should().BeNull();
        map.DNSConfig!.Routes!["tail252fff.ts.net."].Should().BeNull();
        map.DNSConfig.Routes["ts.net."]!.Select(r => r.Addr).Should().Equal("199.247.155.53", "2620:111:8007::53");
        map.DNSConfig.Proxied.Should().BeTrue();
        map.Domain.Should().Be("bogus-test-tailscale.github");
        map.CollectServices.Should().BeTrue();
        map.PacketFilter!.Value.GetArrayLength().Should().Be(2);
        map.PacketFilter.Value[0].GetProperty("CapGrant")[0].GetProperty("Dsts")[1].GetString().Should().Be("fd7a:115c:a1e0::/128");
        map.UserProfiles.Should().ContainSingle().Which.LoginName.Should().Be("bogus-test-tailscale@github");
        map.ControlTime.Should().NotBeNull();
    }

    [Fact]
    public void NamesMatchCaseInsensitively_NullsAndEmptyArraysAreKeptApart()
    {
        var map = Parse<MapResponse>("""{"keepalive":true,"peers":null,"PeersRemoved":[],"Node":{"AllowedIPs":[],"Addresses":null}}""");

        map.KeepAlive.Should().BeTrue();
        map.Peers.Should().BeNull();
        map.PeersRemoved.Should().BeEmpty().And.NotBeNull();
        map.Node!.AllowedIPs.Should().BeEmpty().And.NotBeNull();
        map.Node.Addresses.Should().BeNull();
    }

    [Theory]
    [InlineData("""{"ControlTime":""}""")]
    [InlineData("""{"ControlTime":"2026-01-01T00:00:00"}""")]
    [InlineData("""{"Peers":{}}""")]
    [InlineData("""{"Node":{"ID":"x"}}""")]
    public void BadValues_AreJsonErrors_NotCrashes(string json)
    {
        var parse = () => Parse<MapResponse>(json);
        parse.Should().Throw<JsonException>();
    }

    [Fact]
    public void OnlineChangeAndRegions_HaveDecimalStringKeys()
    {
        var map = Parse<MapResponse>("""{"OnlineChange":{"1679275757477108":false},"PeerSeenChange":{"7":true},"DERPMap":{"Regions":{"999":null}}}""");

        map.OnlineChange.Should().Equal(new Dictionary<long, bool> { [1679275757477108] = false });
        map.PeerSeenChange.Should().Equal(new Dictionary<long, bool> { [7] = true });
        map.DERPMap!.Regions!.Should().ContainKey(999).WhoseValue.Should().BeNull();
    }

    [Fact]
    public void RegisterRequest_WritesGoNames_LeavesOutEmptyFields()
    {
        var nodeKey = "nodekey:" + new string('a', 64);
        var request = new RegisterRequest
        {
            Version = 115,
            NodeKey = nodeKey,
            Auth = new RegisterAuth { AuthKey = "tskey-123" },
            Hostinfo = new Hostinfo { Hostname = "myapp", OS = "linux", IPNVersion = "0.1.0" },
        };

        Write(request).Should().Be(
            """{"Version":115,"NodeKey":"KEY","Auth":{"AuthKey":"tskey-123"},"Hostinfo":{"IPNVersion":"0.1.0","OS":"linux","Hostname":"myapp"}}"""
                .Replace("KEY", nodeKey, StringComparison.Ordinal));
    }

    [Fact]
    public void RegisterRequest_Logout_CarriesTheGoLogoutExpiry_FollowupAndEphemeral()
    {
        var json = Write(new RegisterRequest
        {
            Version = 115,
            NodeKey = "nodekey:" + new string('b', 64),
            Expiry = RegisterRequest.LogoutExpiry,
            Followup = "http://control/auth/x",
            Ephemeral = true,
        });

        json.Should().Contain("\"Expiry\":\"1970-01-01T00:02:03Z\"")
            .And.Contain("\"Followup\":\"http://control/auth/x\"")
            .And.Contain("\"Ephemeral\":true")
            .And.NotContain("OldNodeKey").And.NotContain("Auth\"");
    }

    [Fact]
    public void RegisterResponse_ErrorAndAuthUrl()
    {
        var refused = Parse<RegisterResponse>("""{"Error":"invalid authkey","MachineAuthorized":false,"Unknown":1}""");
        refused.IsError.Should().BeTrue();
        refused.NeedsLogin.Should().BeFalse();
        refused.Error.Should().Be("invalid authkey");

        var pending = Parse<RegisterResponse>("""{"AuthURL":"http://127.0.0.1:9911/auth/abc","MachineAuthorized":false}""");
        pending.NeedsLogin.Should().BeTrue();

        var ok = Parse<RegisterResponse>("""{"User":{"ID":3,"DisplayName":"u"},"Login":{"ID":3,"LoginName":"user-3@fake-control.example.net"},"MachineAuthorized":true,"NodeKeyExpired":false,"AuthURL":""}""");
        ok.MachineAuthorized.Should().BeTrue();
        ok.NeedsLogin.Should().BeFalse();
        ok.Login!.LoginName.Should().Be("user-3@fake-control.example.net");
        Write(refused).Should().Be(
            """{"NodeKeyExpired":false,"MachineAuthorized":false,"Error":"invalid authkey"}""",
            "a fake server writes only the wire fields");
    }

    [Fact]
    public void MapRequest_Stream_AsksForZstd_LiteUpdateOmitsPeers()
    {
        var stream = Write(new MapRequest
        {
            Version = 115,
            Compress = MapRequest.Zstd,
            KeepAlive = true,
            Stream = true,
            NodeKey = "nodekey:" + new string('1', 64),
            DiscoKey = "discokey:" + new string('2', 64),
            Hostinfo = new Hostinfo { Hostname = "n", NetInfo = new NetInfo { PreferredDERP = 1 } },
            Endpoints = ["192.0.2.1:41641"],
            EndpointTypes = [1],
        });
        stream.Should().Be(
            """{"Version":115,"Compress":"zstd","KeepAlive":true,"NodeKey":"NODE","DiscoKey":"DISCO","Stream":true,"Hostinfo":{"Hostname":"n","NetInfo":{"PreferredDERP":1}},"Endpoints":["192.0.2.1:41641"],"EndpointTypes":[1]}"""
                .Replace("NODE", "nodekey:" + new string('1', 64), StringComparison.Ordinal)
                .Replace("DISCO", "discokey:" + new string('2', 64), StringComparison.Ordinal));

        var lite = Write(new MapRequest { Version = 115, OmitPeers = true, NodeKey = "nodekey:" + new string('1', 64) });
        lite.Should().Contain("\"OmitPeers\":true").And.Contain("\"Stream\":false").And.NotContain("Compress");
    }

    [Fact]
    public void Node_RoundTrips_LegacyDerpAndHomeDerp()
    {
        var legacy = Parse<Node>("""{"ID":5,"DERP":"127.3.3.40:7","KeyExpiry":"0001-01-01T00:00:00Z"}""");
        legacy.EffectiveHomeDerp.Should().Be(7);
        GoTimeJsonConverter.IsZero(legacy.KeyExpiry).Should().BeTrue();
        Write(legacy).Should().Contain("\"DERP\":\"127.3.3.40:7\"").And.Contain("\"KeyExpiry\":\"0001-01-01T00:00:00Z\"").And.NotContain("HomeDERP");

        Node.ParseLegacyDerp("127.3.3.40:x").Should().Be(0);
        Node.ParseLegacyDerp("10.0.0.1:7").Should().Be(0);
        Node.ParseLegacyDerp(null).Should().Be(0);
        Encoding.UTF8.GetString(MapFrame.KeepAliveJson).Should().Be("""{"KeepAlive":true}""");
    }
}
