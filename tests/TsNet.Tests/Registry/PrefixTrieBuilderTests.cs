using System.Net;
using TsNet.Registry;

namespace TsNet.Tests.Registry;

/// <summary>Changing a trie through <see cref="PrefixTrie{T}.ToBuilder"/>: the original stays, the result answers as a fresh build.</summary>
public sealed class PrefixTrieBuilderTests
{
    [Fact]
    public void ToBuilder_LeavesTheOriginalAsItWas()
    {
        var original = PrefixTrie<string>.Build([(IPNetwork.Parse("10.1.0.0/16"), "ten-16"), (IPNetwork.Parse("10.1.2.0/24"), "ten-24")]);

        var builder = original.ToBuilder();
        builder.Remove(IPNetwork.Parse("10.1.2.0/24"), "ten-24").Should().BeTrue();
        builder.Add(IPNetwork.Parse("10.1.2.3/32"), "host").Should().BeTrue();
        var changed = builder.ToTrie();

        original.Lookup(IPAddress.Parse("10.1.2.3")).Should().Be("ten-24");
        original.Count.Should().Be(2);
        changed.Lookup(IPAddress.Parse("10.1.2.3")).Should().Be("host");
        changed.Lookup(IPAddress.Parse("10.1.2.4")).Should().Be("ten-16", "the /24 is gone from the copy");
        changed.Count.Should().Be(2);
    }

    [Fact]
    public void Remove_TakesAPrefixOnlyFromTheValueGiven()
    {
        var builder = PrefixTrie<string>.Build([(IPNetwork.Parse("100.64.0.2/32"), "db")]).ToBuilder();

        builder.Remove(IPNetwork.Parse("100.64.0.2/32"), "web").Should().BeFalse();
        builder.Remove(IPNetwork.Parse("100.64.0.3/32"), "db").Should().BeFalse();

        builder.ToTrie().Lookup(IPAddress.Parse("100.64.0.2")).Should().Be("db");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomChanges_AnswerAsAFreshBuildOfTheSamePrefixes(int seed)
    {
        var random = new Random(seed);
        var held = new Dictionary<IPNetwork, string>();
        var trie = PrefixTrie<string>.Empty;
        var probes = new List<IPAddress>();
        for (var step = 0; step < 200; step++)
        {
            var builder = trie.ToBuilder();
            for (var change = random.Next(1, 6); change > 0; change--)
            {
                if (held.Count > 0 && random.Next(3) == 0)
                {
                    var (prefix, value) = held.ElementAt(random.Next(held.Count));
                    builder.Remove(prefix, value).Should().BeTrue();
                    held.Remove(prefix);
                }
                else
                {
                    var prefix = RandomPrefix(random);
                    var value = "v" + random.Next(1000);
                    builder.Add(prefix, value).Should().Be(!held.ContainsKey(prefix));
                    held[prefix] = value;
                    probes.Add(prefix.BaseAddress);
                }
            }

            var before = trie;
            var beforeAnswers = probes.Select(before.Lookup).ToList();
            trie = builder.ToTrie();
            var fresh = PrefixTrie<string>.Build(held.Select(p => (p.Key, p.Value)));
            trie.Count.Should().Be(held.Count);
            foreach (var probe in probes)
            {
                trie.Lookup(probe).Should().Be(fresh.Lookup(probe), "step {0}, address {1}", step, probe);
            }

            probes.Select(before.Lookup).Should().Equal(beforeAnswers, "a builder never changes the trie it started from");
        }
    }

    // Prefixes from a small space, so they nest, share paths and repeat.
    private static IPNetwork RandomPrefix(Random random)
    {
        if (random.Next(4) == 0)
        {
            var bytes = new byte[16];
            bytes[0] = 0xfd;
            bytes[15] = (byte)random.Next(8);
            bytes[14] = (byte)random.Next(4);
            var length = random.Next(4) == 0 ? random.Next(112, 129) : 128;
            return Truncate(new IPAddress(bytes), length);
        }

        var address = new IPAddress([10, (byte)random.Next(3), (byte)random.Next(4), (byte)random.Next(8)]);
        return Truncate(address, random.Next(3) == 0 ? random.Next(8, 33) : 32);
    }

    private static IPNetwork Truncate(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = length; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), length);
    }
}
