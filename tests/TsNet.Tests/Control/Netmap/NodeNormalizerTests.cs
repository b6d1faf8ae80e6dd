using TsNet.Control.Netmap;
using static TsNet.Tests.Control.Netmap.NetmapJson;

namespace TsNet.Tests.Control.Netmap;

/// <summary>Go's <c>upgradeNode</c> table (fixtures A.6).</summary>
public sealed class NodeNormalizerTests
{
    [Theory]
    [InlineData("""{"HomeDERP":1,"DERP":"127.3.3.40:2"}""", 1)]
    [InlineData("""{"DERP":"127.3.3.40:2"}""", 2)]
    [InlineData("""{"HomeDERP":2}""", 2)]
    [InlineData("""{"DERP":"garbage"}""", 0)]
    public void HomeDerp_IntWins_LegacyStringFillsIn_AndIsDropped(string json, int homeDerp)
    {
        var node = NodeNormalizer.Normalize(Node(json));

        node.HomeDERP.Should().Be(homeDerp);
        node.DERP.Should().BeNull();
    }

    [Fact]
    public void AllowedIps_GivenStayAsGiven()
    {
        var node = NodeNormalizer.Normalize(Node("""{"Addresses":["0.0.0.1/32","0.0.0.2/32"],"AllowedIPs":["0.0.0.3/32","0.0.0.4/32"]}"""));

        node.AllowedIPs.Should().Equal("0.0.0.3/32", "0.0.0.4/32");
    }

    [Fact]
    public void AllowedIps_Null_AreTheAddresses()
    {
        var input = Node("""{"Addresses":["0.0.0.1/32","0.0.0.2/32"]}""");

        var node = NodeNormalizer.Normalize(input);

        node.AllowedIPs.Should().Equal("0.0.0.1/32", "0.0.0.2/32");
        input.AllowedIPs.Should().BeNull("the wire node is not changed");
    }

    [Fact]
    public void AllowedIps_Empty_StayEmpty()
    {
        var node = NodeNormalizer.Normalize(Node("""{"Addresses":["0.0.0.1/32","0.0.0.2/32"],"AllowedIPs":[]}"""));

        node.AllowedIPs.Should().BeEmpty().And.NotBeNull();
    }

    [Fact]
    public void UnsignedPeer_AllowedIpsClampedToAddresses()
    {
        var node = NodeNormalizer.Normalize(Node("""{"UnsignedPeerAPIOnly":true,"Addresses":["0.0.0.1/32"],"AllowedIPs":["0.0.0.1/32","10.0.0.0/8"]}"""));

        node.AllowedIPs.Should().Equal("0.0.0.1/32");
    }

    [Fact]
    public void NothingToChange_SameInstance()
    {
        var input = Node("""{"HomeDERP":3,"Addresses":[],"AllowedIPs":[]}""");

        NodeNormalizer.Normalize(input).Should().BeSameAs(input);
    }
}
