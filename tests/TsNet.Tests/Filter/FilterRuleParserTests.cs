using System.Text;
using System.Text.Json;
using TsNet.Filter;

namespace TsNet.Tests.Filter;

/// <summary>FilterRule JSON (protocol doc §9.5, fixture A.8) to compiled rules: every accepted shape and the errors.</summary>
public sealed class FilterRuleParserTests
{
    private static PacketFilter Parse(string json) => PacketFilter.Parse(Encoding.UTF8.GetBytes(json));

    private static CompiledFilterRule Single(string json) => Parse(json).Rules.Should().ContainSingle().Subject;

    private static string Range(AddressRange range, bool v6) => v6
        ? $"{ToV6(range.First)}-{ToV6(range.Last)}"
        : $"{ToV4(range.First)}-{ToV4(range.Last)}";

    private static string ToV4(UInt128 value) => new System.Net.IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)value))).ToString();

    private static string ToV6(UInt128 value)
    {
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new System.Net.IPAddress(bytes).ToString();
    }

    [Fact]
    public void FixtureA8_CompilesToTheCapturedMatcher()
    {
        var rule = Single("""
            [{"SrcIPs":["100.115.94.0-100.127.255.255","100.64.0.0-100.115.91.255","fd7a:115c:a1e0::/48"],
              "DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]
            """);

        // Empty IPProto ⇒ TCP, UDP, ICMPv4, ICMPv6 and nothing else.
        Enumerable.Range(0, 256).Where(p => rule.HasProtocol((byte)p)).Should().Equal(1, 6, 17, 58);

        // The captured Srcs are 13 IPv4 prefixes covering the CGNAT /10 minus 100.115.92.0/23: merged, two ranges.
        rule.SourcesV4.Select(r => Range(r, false)).Should().Equal("100.64.0.0-100.115.91.255", "100.115.94.0-100.127.255.255");
        rule.SourcesV6.Select(r => Range(r, true)).Should().Equal("fd7a:115c:a1e0::-fd7a:115c:a1e0:ffff:ffff:ffff:ffff:ffff");

        // "IP":"*" ⇒ 0.0.0.0/0 and ::/0, ports 0–65535.
        rule.DestinationsV4.Should().Equal(new DestinationPorts(new AddressRange(0, uint.MaxValue), 0, 65535));
        rule.DestinationsV6.Should().Equal(new DestinationPorts(new AddressRange(0, UInt128.MaxValue), 0, 65535));
    }

    [Fact]
    public void ReadmeExample_SingleAddressesAndTcpOnly()
    {
        var rule = Single("""[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"100.64.0.2","Ports":{"First":8765,"Last":8765}}],"IPProto":[6]}]""");
        Enumerable.Range(0, 256).Where(p => rule.HasProtocol((byte)p)).Should().Equal(6);
        rule.SourcesV4.Select(r => Range(r, false)).Should().Equal("100.64.0.1-100.64.0.1");
        rule.SourcesV6.Should().BeEmpty();
        rule.DestinationsV4.Should().ContainSingle().Which.Should().Be(new DestinationPorts(new AddressRange(0x64400002, 0x64400002), 8765, 8765));
        rule.DestinationsV6.Should().BeEmpty();
    }

    [Fact]
    public void CidrHostBitsAreMaskedAndEdgesAreInclusive()
    {
        var rule = Single("""[{"SrcIPs":["10.1.2.3/24","fd00::1/127","0.0.0.0/0","192.0.2.7/32"],"DstPorts":[{"IP":"198.51.100.0/31","Ports":{"First":1,"Last":2}}]}]""");
        rule.SourcesV4.Select(r => Range(r, false)).Should().Equal("0.0.0.0-255.255.255.255");
        rule.SourcesV6.Select(r => Range(r, true)).Should().Equal("fd00::-fd00::1");
        rule.DestinationsV4.Select(d => Range(d.Addresses, false)).Should().Equal("198.51.100.0-198.51.100.1");
    }

    [Fact]
    public void StarSourceCoversBothFamilies()
    {
        var rule = Single("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"fd7a::/16","Ports":{"First":22,"Last":22}}]}]""");
        rule.SourcesV4.Should().Equal(new AddressRange(0, uint.MaxValue));
        rule.SourcesV6.Should().Equal(new AddressRange(0, UInt128.MaxValue));
        rule.DestinationsV4.Should().BeEmpty();
        rule.DestinationsV6.Should().ContainSingle();
    }

    [Fact]
    public void RangesInDestinationsAndLegacyBits()
    {
        var rule = Single("""
            [{"SrcIPs":["100.64.0.9","cap:foo"],"SrcBits":[30],
              "DstPorts":[{"IP":"100.64.0.10-100.64.0.20","Ports":{"First":80,"Last":443}},{"IP":"100.64.1.1","Bits":24,"Ports":{"First":0,"Last":0}}]}]
            """);
        rule.SourcesV4.Select(r => Range(r, false)).Should().Equal("100.64.0.8-100.64.0.11");
        rule.DestinationsV4.Select(d => (Range(d.Addresses, false), d.FirstPort, d.LastPort)).Should().Equal(
            ("100.64.0.10-100.64.0.20", (ushort)80, (ushort)443), ("100.64.1.0-100.64.1.255", (ushort)0, (ushort)0));
    }

    [Fact]
    public void ExplicitProtocolsOutOfRangeIgnoredAndUnknownFieldsSkipped()
    {
        var rule = Single("""
            [{"srcips":["*"],"dstports":[{"ip":"*","ports":{"first":0,"last":65535}}],"ipproto":[47,132,-1,300],
              "CapGrant":[{"Dsts":["100.64.0.0/10"],"CapMap":{"x":[{}]}}],"Future":{"a":[1,2]}}]
            """);
        Enumerable.Range(0, 256).Where(p => rule.HasProtocol((byte)p)).Should().Equal(47, 132);
    }

    [Fact]
    public void OnlyIgnoredProtocolsFallBackToTheDefault()
    {
        var rule = Single("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":1,"Last":1}}],"IPProto":[256]}]""");
        Enumerable.Range(0, 256).Where(p => rule.HasProtocol((byte)p)).Should().Equal(1, 6, 17, 58);
    }

    [Fact]
    public void CapGrantOnlyRuleMatchesNoPacket()
    {
        var filter = Parse("""[{"SrcIPs":["*"],"CapGrant":[{"Dsts":["100.64.0.2/32"],"CapMap":{}}]}]""");
        filter.Rules.Should().ContainSingle().Which.DestinationsV4.Should().BeEmpty();
        PacketSummary.TryRead(TestPackets.Tcp("100.64.0.1", 1000, "100.64.0.2", 80), out var syn).Should().BeTrue();
        filter.Allows(syn).Should().BeFalse();
    }

    [Fact]
    public void EmptyArrayIsDenyAllAndNullFieldsAreAbsent()
    {
        Parse("[]").Rules.Should().BeEmpty();
        var rule = Single("""[{"SrcIPs":null,"DstPorts":null,"IPProto":null}]""");
        rule.SourcesV4.Should().BeEmpty();
        rule.DestinationsV4.Should().BeEmpty();
        rule.HasProtocol(6).Should().BeTrue();
    }

    [Fact]
    public void JsonElementOverloadParsesTheSame()
    {
        using var document = JsonDocument.Parse("""{"PacketFilter":[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"*","Ports":{"First":5,"Last":6}}]}]}""");
        var rule = PacketFilter.Parse(document.RootElement.GetProperty("PacketFilter")).Rules.Should().ContainSingle().Subject;
        rule.DestinationsV4.Should().ContainSingle().Which.FirstPort.Should().Be(5);
    }

    [Theory]
    [InlineData("[{", "not valid JSON")]
    [InlineData("{}", "expected a JSON array of rules, found Object")]
    [InlineData("null", "expected a JSON array of rules, found Null")]
    [InlineData("[5]", "PacketFilter[0]: expected a rule object")]
    [InlineData("""[{"SrcIPs":"*"}]""", "PacketFilter[0].SrcIPs: expected an array")]
    [InlineData("""[{"SrcIPs":[1]}]""", "PacketFilter[0].SrcIPs[0]: expected a string")]
    [InlineData("""[{},{"SrcIPs":["bogus"]}]""", "PacketFilter[1].SrcIPs[0]: \"bogus\" is not an IP address, CIDR prefix, range a-b or *")]
    [InlineData("""[{"SrcIPs":["1.2"]}]""", "\"1.2\" is not an IP address")]
    [InlineData("""[{"SrcIPs":["fe80::1%eth0"]}]""", "is not an IP address")]
    [InlineData("""[{"SrcIPs":["10.0.0.0/33"]}]""", "prefix length 33 of \"10.0.0.0/33\" is out of range 0–32")]
    [InlineData("""[{"SrcIPs":["10.0.0.9-10.0.0.1"]}]""", "range \"10.0.0.9-10.0.0.1\" ends below its start")]
    [InlineData("""[{"SrcIPs":["10.0.0.1-fd00::1"]}]""", "is not an IP address")]
    [InlineData("""[{"DstPorts":[{"Ports":{"First":1,"Last":2}}]}]""", "PacketFilter[0].DstPorts[0]: IP is missing")]
    [InlineData("""[{"DstPorts":[{"IP":"*"}]}]""", "PacketFilter[0].DstPorts[0]: Ports is missing")]
    [InlineData("""[{"DstPorts":[{"IP":"*","Ports":{"First":9,"Last":8}}]}]""", "First 9 is above Last 8")]
    [InlineData("""[{"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65536}}]}]""", "ports must be 0–65535")]
    [InlineData("""[{"DstPorts":[{"IP":"*","Ports":{"First":"0","Last":1}}]}]""", "Ports.First: expected an integer")]
    [InlineData("""[{"IPProto":["tcp"]}]""", "PacketFilter[0].IPProto[0]: expected an integer protocol number")]
    public void BadInputGivesAClearError(string json, string message)
    {
        var parse = () => Parse(json);
        parse.Should().Throw<FormatException>().Which.Message.Should().Contain(message);
    }
}
