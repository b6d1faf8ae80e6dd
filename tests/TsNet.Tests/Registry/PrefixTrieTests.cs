using System.Net;
using TsNet.Registry;

namespace TsNet.Tests.Registry;

/// <summary>Longest-prefix match of the registry's AllowedIPs trie, IPv4 and IPv6.</summary>
public sealed class PrefixTrieTests
{
    private static PrefixTrie<string> Build(params string[] entries) =>
        PrefixTrie<string>.Build(entries.Select(e => (IPNetwork.Parse(e.Split('=')[0]), e.Split('=')[1])));

    [Theory]
    [InlineData("100.64.0.2", "host")]
    [InlineData("100.64.0.3", "cgnat")]
    [InlineData("10.1.2.3", "ten-24")]
    [InlineData("10.1.3.3", "ten-16")]
    [InlineData("10.2.0.1", "default")]
    [InlineData("8.8.8.8", "default")]
    [InlineData("fd7a:115c:a1e0::2", "v6-host")]
    [InlineData("fd7a:115c:a1e0::9", "v6-48")]
    [InlineData("fd7a:115c:a1e1::9", null)]
    [InlineData("::ffff:100.64.0.2", "host")]
    public void Lookup_FindsTheLongestPrefixThatHoldsTheAddress(string address, string? expected)
    {
        var trie = Build(
            "0.0.0.0/0=default", "10.1.0.0/16=ten-16", "10.1.2.0/24=ten-24", "100.64.0.0/10=cgnat", "100.64.0.2/32=host",
            "fd7a:115c:a1e0::/48=v6-48", "fd7a:115c:a1e0::2/128=v6-host");

        trie.Lookup(IPAddress.Parse(address)).Should().Be(expected);
        trie.Count.Should().Be(7);
    }

    [Fact]
    public void Lookup_InsertionOrderDoesNotMatter_AndSiblingsSplitCorrectly()
    {
        // Inserting the longer prefix first forces a split above it when the shorter one arrives.
        var trie = Build("10.0.0.128/25=upper", "10.0.0.0/25=lower", "10.0.0.0/24=all", "10.0.0.64/26=lower-upper");

        trie.Lookup(IPAddress.Parse("10.0.0.200")).Should().Be("upper");
        trie.Lookup(IPAddress.Parse("10.0.0.1")).Should().Be("lower");
        trie.Lookup(IPAddress.Parse("10.0.0.70")).Should().Be("lower-upper");
        trie.Lookup(IPAddress.Parse("10.0.1.0")).Should().BeNull();
    }

    [Fact]
    public void Build_SamePrefixTwice_LastEntryWins()
    {
        var trie = Build("100.64.0.5/32=first", "100.64.0.5/32=second");

        trie.Lookup(IPAddress.Parse("100.64.0.5")).Should().Be("second");
        trie.Count.Should().Be(1);
    }

    [Fact]
    public void Build_HostBitsInThePrefix_AreIgnored()
    {
        var trie = PrefixTrie<string>.Build([(new IPNetwork(IPAddress.Parse("100.64.0.0"), 24), "net")]);

        trie.Lookup(IPAddress.Parse("100.64.0.77")).Should().Be("net");
        PrefixTrie<string>.Empty.Lookup(IPAddress.Parse("100.64.0.77")).Should().BeNull();
    }

    [Fact]
    public void Build_RefusesMoreThanTheBound()
    {
        var tooMany = Enumerable.Range(0, PrefixTrie<string>.MaxPrefixes + 1)
            .Select(i => (new IPNetwork(new IPAddress(BitConverter.GetBytes(0x0A000000 + i).Reverse().ToArray()), 32), "x"));

        var act = () => PrefixTrie<string>.Build(tooMany);

        act.Should().Throw<InvalidOperationException>().WithMessage("*262144*");
    }
}
