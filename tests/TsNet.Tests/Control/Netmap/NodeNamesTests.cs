using TsNet.Control.Netmap;

namespace TsNet.Tests.Control.Netmap;

/// <summary>Short and full names from <c>Node.Name</c>.</summary>
public sealed class NodeNamesTests
{
    [Theory]
    [InlineData("web.tailnet.example.", "tailnet.example", null, "web", "web.tailnet.example")]
    [InlineData("web.tailnet.example", null, null, "web", "web.tailnet.example")]
    [InlineData("web", "tailnet.example.", null, "web", "web.tailnet.example")]
    [InlineData("web", null, null, "web", null)]
    [InlineData("", "tailnet.example", "host", "host", "host.tailnet.example")]
    [InlineData(null, null, null, null, null)]
    [InlineData(".", "tailnet.example", null, null, null)]
    [InlineData(".weird", "tailnet.example", null, null, null)]
    public void Names(string? name, string? domain, string? hostname, string? shortName, string? fullName)
    {
        NodeNames.From(name, domain, hostname).Should().Be(new NodeNames(shortName, fullName));
    }
}
