using System.Text;
using TsNet.Filter;

namespace TsNet.Tests.Filter;

/// <summary>The compiled matcher: ports, ranges, protocols, IPv4/IPv6, CIDR edges and <c>*</c>.</summary>
public sealed class PacketFilterMatchTests
{
    private static bool Allows(string json, byte[] packet)
    {
        PacketSummary.TryRead(packet, out var summary).Should().BeTrue();
        return PacketFilter.Parse(Encoding.UTF8.GetBytes(json)).Allows(summary);
    }

    private const string Tcp8765 = """[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"100.64.0.2","Ports":{"First":8765,"Last":8765}}],"IPProto":[6]}]""";

    [Theory]
    [InlineData("100.64.0.1", 8765, true)]
    [InlineData("100.64.0.1", 8764, false)]
    [InlineData("100.64.0.1", 8766, false)]
    [InlineData("100.64.0.3", 8765, false)]
    public void SingleSourceSinglePort(string source, int port, bool allowed) =>
        Allows(Tcp8765, TestPackets.Tcp(source, 40000, "100.64.0.2", (ushort)port)).Should().Be(allowed);

    [Fact]
    public void ProtocolMustBeListed()
    {
        Allows(Tcp8765, TestPackets.Udp("100.64.0.1", 40000, "100.64.0.2", 8765)).Should().BeFalse();
        Allows(Tcp8765, TestPackets.EchoRequest("100.64.0.1", "100.64.0.2", 1)).Should().BeFalse();
    }

    [Fact]
    public void DestinationAddressMustMatch() =>
        Allows(Tcp8765, TestPackets.Tcp("100.64.0.1", 40000, "100.64.0.9", 8765)).Should().BeFalse();

    [Theory]
    [InlineData(999, false)]
    [InlineData(1000, true)]
    [InlineData(1500, true)]
    [InlineData(2000, true)]
    [InlineData(2001, false)]
    public void PortRangeEdgesAreInclusive(int port, bool allowed) =>
        Allows("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":1000,"Last":2000}}]}]""",
            TestPackets.Udp("10.0.0.1", 5, "10.0.0.2", (ushort)port)).Should().Be(allowed);

    [Theory]
    [InlineData("100.64.0.255", false)]
    [InlineData("100.64.1.0", true)]
    [InlineData("100.64.1.255", true)]
    [InlineData("100.64.2.0", false)]
    public void CidrEdgesV4(string source, bool allowed) =>
        Allows("""[{"SrcIPs":["100.64.1.77/24"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""",
            TestPackets.Tcp(source, 1, "100.64.0.2", 22)).Should().Be(allowed);

    [Theory]
    [InlineData("fd7a:115c:a1df:ffff:ffff:ffff:ffff:ffff", false)]
    [InlineData("fd7a:115c:a1e0::", true)]
    [InlineData("fd7a:115c:a1e0:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("fd7a:115c:a1e1::", false)]
    public void CidrEdgesV6(string source, bool allowed) =>
        Allows("""[{"SrcIPs":["fd7a:115c:a1e0::/48"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""",
            TestPackets.Tcp(source, 1, "fd7a:115c:a1e0::2", 22)).Should().Be(allowed);

    [Theory]
    [InlineData("100.64.0.9", false)]
    [InlineData("100.64.0.10", true)]
    [InlineData("100.64.0.20", true)]
    [InlineData("100.64.0.21", false)]
    public void SourceRangeEdges(string source, bool allowed) =>
        Allows("""[{"SrcIPs":["100.64.0.10-100.64.0.20"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""",
            TestPackets.Udp(source, 1, "100.64.0.2", 53)).Should().Be(allowed);

    [Theory]
    [InlineData("100.64.0.1", "100.64.0.2")]
    [InlineData("fd7a:115c:a1e0::1", "fd7a:115c:a1e0::2")]
    [InlineData("8.8.8.8", "192.168.1.1")]
    public void StarEverywhereAllowsBothFamilies(string source, string destination)
    {
        const string allowAll = """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""";
        Allows(allowAll, TestPackets.Tcp(source, 1, destination, 443)).Should().BeTrue();
        Allows(allowAll, TestPackets.Udp(source, 1, destination, 53)).Should().BeTrue();
        Allows(allowAll, TestPackets.EchoRequest(source, destination, 7)).Should().BeTrue();
    }

    [Fact]
    public void FamiliesDoNotCrossMatch()
    {
        // A v4 source rule never matches a v6 packet whose low 32 bits happen to equal it.
        Allows("""[{"SrcIPs":["0.0.0.1"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""",
            TestPackets.Tcp("::1", 1, "::2", 80)).Should().BeFalse();
        Allows("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"100.64.0.0/10","Ports":{"First":0,"Last":65535}}]}]""",
            TestPackets.Tcp("fd7a::1", 1, "::6440:2", 80)).Should().BeFalse();
    }

    [Fact]
    public void IcmpMatchesAnyPortRuleWhenItsProtocolIsListed()
    {
        // ICMP has no ports: a rule for port 22 with the default protocols lets ping through.
        const string ssh = """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]}]""";
        Allows(ssh, TestPackets.EchoRequest("100.64.0.1", "100.64.0.2", 1)).Should().BeTrue();
        Allows(ssh, TestPackets.EchoRequest("fd7a::1", "fd7a::2", 1)).Should().BeTrue();

        // ICMPv4 listed but not ICMPv6.
        const string v4Only = """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}],"IPProto":[1]}]""";
        Allows(v4Only, TestPackets.EchoRequest("100.64.0.1", "100.64.0.2", 1)).Should().BeTrue();
        Allows(v4Only, TestPackets.EchoRequest("fd7a::1", "fd7a::2", 1)).Should().BeFalse();
    }

    [Fact]
    public void PortlessProtocolsNeedAnAllPortsEntry()
    {
        Allows("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}],"IPProto":[47]}]""",
            TestPackets.Other(47, "100.64.0.1", "100.64.0.2")).Should().BeTrue();
        Allows("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":1000}}],"IPProto":[47]}]""",
            TestPackets.Other(47, "100.64.0.1", "100.64.0.2")).Should().BeFalse();
    }

    [Fact]
    public void AnyOfSeveralRulesOrEntriesAllows()
    {
        const string two = """
            [{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"100.64.0.2","Ports":{"First":80,"Last":80}},{"IP":"100.64.0.2","Ports":{"First":443,"Last":443}}]},
             {"SrcIPs":["100.64.0.3"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]}]
            """;
        Allows(two, TestPackets.Tcp("100.64.0.1", 1, "100.64.0.2", 443)).Should().BeTrue();
        Allows(two, TestPackets.Tcp("100.64.0.3", 1, "100.64.0.2", 22)).Should().BeTrue();
        Allows(two, TestPackets.Tcp("100.64.0.1", 1, "100.64.0.2", 22)).Should().BeFalse();
        Allows(two, TestPackets.Tcp("100.64.0.3", 1, "100.64.0.2", 80)).Should().BeFalse();
    }

    [Fact]
    public void ConcatenatedChunksAllowWhatEitherAllows()
    {
        var ssh = PacketFilter.Parse("""[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]}]"""u8);
        var web = PacketFilter.Parse("""[{"SrcIPs":["100.64.0.3"],"DstPorts":[{"IP":"*","Ports":{"First":80,"Last":80}}]}]"""u8);
        var both = PacketFilter.Concat([ssh, PacketFilter.DenyAll, web]);
        both.Rules.Should().HaveCount(2);
        PacketSummary.TryRead(TestPackets.Tcp("100.64.0.1", 1, "100.64.0.2", 22), out var toSsh).Should().BeTrue();
        PacketSummary.TryRead(TestPackets.Tcp("100.64.0.3", 1, "100.64.0.2", 80), out var toWeb).Should().BeTrue();
        PacketSummary.TryRead(TestPackets.Tcp("100.64.0.1", 1, "100.64.0.2", 80), out var other).Should().BeTrue();
        both.Allows(toSsh).Should().BeTrue();
        both.Allows(toWeb).Should().BeTrue();
        both.Allows(other).Should().BeFalse();
    }

    [Fact]
    public void DenyAllAllowsNothing()
    {
        PacketSummary.TryRead(TestPackets.Tcp("100.64.0.1", 1, "100.64.0.2", 80), out var summary).Should().BeTrue();
        PacketFilter.DenyAll.Allows(summary).Should().BeFalse();
    }
}
