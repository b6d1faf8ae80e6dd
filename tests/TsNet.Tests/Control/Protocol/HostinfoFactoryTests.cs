using System.Net;
using System.Text.Json;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Protocol;

/// <summary>The Hostinfo a node sends (protocol doc §8.5).</summary>
public sealed class HostinfoFactoryTests
{
    [Fact]
    public void Minimal_HasNameOsVersionApp_NoEmptyLists()
    {
        var json = JsonSerializer.Serialize(HostinfoFactory.Create("myapp"), ControlJsonContext.Default.Hostinfo);

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        root.GetProperty("Hostname").GetString().Should().Be("myapp");
        root.GetProperty("OS").GetString().Should().Be(OperatingSystem.IsLinux() ? "linux" : HostinfoFactory.OsName);
        root.GetProperty("IPNVersion").GetString().Should().NotBeNullOrEmpty().And.NotContain("+");
        root.GetProperty("App").GetString().Should().Be("tsnet-dotnet");
        root.GetProperty("Userspace").GetBoolean().Should().BeTrue();
        root.TryGetProperty("RoutableIPs", out _).Should().BeFalse();
        root.TryGetProperty("RequestTags", out _).Should().BeFalse();
        root.TryGetProperty("NetInfo", out _).Should().BeFalse();
        root.TryGetProperty("sshHostKeys", out _).Should().BeFalse();
    }

    [Fact]
    public void RoutesTagsAndHomeDerp_AreSent()
    {
        var hostinfo = HostinfoFactory.Create("router", [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("fd00::/64")], ["tag:web"], preferredDerp: 1);

        var json = JsonSerializer.Serialize(hostinfo, ControlJsonContext.Default.Hostinfo);

        json.Should().Contain("\"RoutableIPs\":[\"10.0.0.0/8\",\"fd00::/64\"]")
            .And.Contain("\"RequestTags\":[\"tag:web\"]")
            .And.Contain("\"NetInfo\":{\"PreferredDERP\":1}");
    }

    [Fact]
    public void DerpLatency_IsSentInSecondsPerRegionV4()
    {
        var latency = NetInfoLatency.ToWire(new Dictionary<int, TimeSpan>
        {
            [2] = TimeSpan.FromMilliseconds(12.5),
            [1] = TimeSpan.FromMilliseconds(3),
            [3] = TimeSpan.Zero,
        });
        var hostinfo = HostinfoFactory.Create("node", preferredDerp: 1, derpLatency: latency);

        var json = JsonSerializer.Serialize(hostinfo, ControlJsonContext.Default.Hostinfo);

        json.Should().Contain("\"NetInfo\":{\"PreferredDERP\":1,\"DERPLatency\":{\"1-v4\":0.003,\"2-v4\":0.0125}}",
            "a region without a measured latency is left out");
    }

    [Fact]
    public void DerpLatency_WithoutHome_StillSent_AndBounded()
    {
        var many = Enumerable.Range(1, NetInfoLatency.MaxRegions + 10).ToDictionary(id => id, id => TimeSpan.FromMilliseconds(id));

        var wire = NetInfoLatency.ToWire(many);
        var hostinfo = HostinfoFactory.Create("node", derpLatency: wire);

        wire.Should().HaveCount(NetInfoLatency.MaxRegions).And.ContainKey("1-v4").And.NotContainKey((NetInfoLatency.MaxRegions + 1) + "-v4");
        hostinfo.NetInfo!.PreferredDERP.Should().Be(0);
        hostinfo.NetInfo.DERPLatency.Should().BeSameAs(wire);
        HostinfoFactory.Create("node", derpLatency: new Dictionary<string, double>()).NetInfo.Should().BeNull("nothing to tell yet");
    }

    [Fact]
    public void EmptyHostname_IsRefused()
    {
        var create = () => HostinfoFactory.Create(" ");
        create.Should().Throw<ArgumentException>();
    }
}
