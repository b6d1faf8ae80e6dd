using System.Net;
using System.Numerics;
using TsNet.WireGuard.Routing;

namespace TsNet.Tests.WireGuard.Routing;

public sealed class AllowedIpsTableTests
{
    private sealed class Peer(string name)
    {
        public string Name { get; } = name;

        public override string ToString() => Name;
    }

    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    [Fact]
    public void Empty_FindsNothing()
    {
        var table = new AllowedIpsTable<Peer>();
        table.Count.Should().Be(0);
        table.Lookup(Ip("10.0.0.1")).Should().BeNull();
        table.Lookup(Ip("::1")).Should().BeNull();
        table.Lookup(new byte[5]).Should().BeNull();
        table.Lookup(ReadOnlySpan<byte>.Empty).Should().BeNull();
    }

    [Fact]
    public void DefaultRoutes_MatchTheirFamilyOnly()
    {
        var v4 = new Peer("v4");
        var v6 = new Peer("v6");
        var table = new AllowedIpsTable<Peer>();
        table.Insert(IPAddress.Any, 0, v4);
        table.Lookup(Ip("1.2.3.4")).Should().BeSameAs(v4);
        table.Lookup(Ip("255.255.255.255")).Should().BeSameAs(v4);
        table.Lookup(Ip("2001:db8::1")).Should().BeNull();
        table.Lookup(Ip("::ffff:1.2.3.4")).Should().BeNull("an IPv4-mapped address is IPv6 on the wire");

        table.Insert(IPAddress.IPv6Any, 0, v6);
        table.Lookup(Ip("2001:db8::1")).Should().BeSameAs(v6);
        table.Lookup(Ip("::ffff:1.2.3.4")).Should().BeSameAs(v6);
        table.Lookup(Ip("1.2.3.4")).Should().BeSameAs(v4);
        table.Count.Should().Be(2);
    }

    [Fact]
    public void HostRoutes_32And128()
    {
        var a = new Peer("a");
        var table = new AllowedIpsTable<Peer>();
        table.Insert(Ip("100.64.0.1"), 32, a);
        table.Insert(Ip("fd7a:115c:a1e0::1"), 128, a);
        table.Lookup(Ip("100.64.0.1")).Should().BeSameAs(a);
        table.Lookup(Ip("100.64.0.2")).Should().BeNull();
        table.Lookup(Ip("100.64.0.0")).Should().BeNull();
        table.Lookup(Ip("fd7a:115c:a1e0::1")).Should().BeSameAs(a);
        table.Lookup(Ip("fd7a:115c:a1e0::0")).Should().BeNull();
        table.Lookup(Ip("fd7a:115c:a1e0::1").GetAddressBytes()).Should().BeSameAs(a);
        table.Lookup([100, 64, 0, 1]).Should().BeSameAs(a);
    }

    [Fact]
    public void Overlapping_LongestPrefixWins()
    {
        var wide = new Peer("wide");
        var mid = new Peer("mid");
        var narrow = new Peer("narrow");
        var table = new AllowedIpsTable<Peer>();
        table.Insert(Ip("10.0.0.0"), 8, wide);
        table.Insert(Ip("10.1.0.0"), 16, mid);
        table.Insert(Ip("10.1.2.3"), 32, narrow);

        table.Lookup(Ip("10.200.0.1")).Should().BeSameAs(wide);
        table.Lookup(Ip("10.1.200.1")).Should().BeSameAs(mid);
        table.Lookup(Ip("10.1.2.3")).Should().BeSameAs(narrow);
        table.Lookup(Ip("10.1.2.4")).Should().BeSameAs(mid);
        table.Lookup(Ip("11.0.0.0")).Should().BeNull();

        table.Insert(Ip("2001:db8::"), 32, wide);
        table.Insert(Ip("2001:db8:1::"), 48, mid);
        table.Lookup(Ip("2001:db8:1::5")).Should().BeSameAs(mid);
        table.Lookup(Ip("2001:db8:2::5")).Should().BeSameAs(wide);
    }

    [Fact]
    public void Insert_MasksHostBits_AndReplacesIdenticalPrefix()
    {
        var a = new Peer("a");
        var b = new Peer("b");
        var table = new AllowedIpsTable<Peer>();
        table.Insert(Ip("192.168.1.77"), 24, a);
        table.Lookup(Ip("192.168.1.1")).Should().BeSameAs(a);
        table.PrefixesOf(a).Should().Equal((Ip("192.168.1.0"), 24));

        table.Insert(Ip("192.168.1.0"), 24, b);
        table.Count.Should().Be(1);
        table.Lookup(Ip("192.168.1.1")).Should().BeSameAs(b);
        table.PrefixesOf(a).Should().BeEmpty();

        table.Insert(Ip("2001:db8::ffff"), 64, a);
        table.PrefixesOf(a).Should().Equal((Ip("2001:db8::"), 64));
    }

    [Fact]
    public void Remove_ExactPrefixOnly()
    {
        var a = new Peer("a");
        var b = new Peer("b");
        var table = new AllowedIpsTable<Peer>();
        table.Insert(Ip("10.0.0.0"), 8, a);
        table.Insert(Ip("10.1.0.0"), 16, b);

        table.Remove(Ip("10.1.0.0"), 24).Should().BeFalse();
        table.Remove(Ip("10.1.0.0"), 16).Should().BeTrue();
        table.Remove(Ip("10.1.0.0"), 16).Should().BeFalse();
        table.Lookup(Ip("10.1.0.1")).Should().BeSameAs(a);
        table.Remove(Ip("10.9.9.9"), 8).Should().BeTrue("host bits are ignored");
        table.Lookup(Ip("10.1.0.1")).Should().BeNull();
        table.Count.Should().Be(0);
    }

    [Fact]
    public void RemoveAll_RemovesOnlyThatValue()
    {
        var a = new Peer("a");
        var b = new Peer("b");
        var table = new AllowedIpsTable<Peer>();
        table.Insert(Ip("10.0.0.0"), 8, a);
        table.Insert(Ip("10.1.0.0"), 16, b);
        table.Insert(Ip("10.1.1.0"), 24, a);
        table.Insert(Ip("fd00::"), 8, a);
        table.Insert(Ip("fd00::1"), 128, b);

        table.PrefixesOf(a).Should().BeEquivalentTo(new[] { (Ip("10.1.1.0"), 24), (Ip("10.0.0.0"), 8), (Ip("fd00::"), 8) });
        table.RemoveAll(a);
        table.Count.Should().Be(2);
        table.PrefixesOf(a).Should().BeEmpty();
        table.Lookup(Ip("10.1.1.1")).Should().BeSameAs(b);
        table.Lookup(Ip("10.2.0.0")).Should().BeNull();
        table.Lookup(Ip("fd00::1")).Should().BeSameAs(b);
        table.Lookup(Ip("fd00::2")).Should().BeNull();
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        var table = new AllowedIpsTable<Peer>();
        var a = new Peer("a");
        FluentActions.Invoking(() => table.Insert(Ip("1.2.3.4"), 33, a)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => table.Insert(Ip("::1"), 129, a)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => table.Insert(Ip("::1"), -1, a)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => table.Insert(null!, 0, a)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => table.Insert(Ip("::1"), 0, null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Lookup_DoesNotAllocate()
    {
        var table = new AllowedIpsTable<Peer>();
        var a = new Peer("a");
        table.Insert(Ip("10.0.0.0"), 8, a);
        table.Insert(Ip("10.1.0.0"), 16, a);
        table.Insert(Ip("fd00::"), 8, a);
        var v4 = Ip("10.1.2.3");
        var v6 = Ip("fd00::1");
        byte[] raw = [10, 1, 2, 3];
        _ = table.Lookup(v4);
        _ = table.Lookup(v6);
        _ = table.Lookup(raw);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            _ = table.Lookup(v4);
            _ = table.Lookup(v6);
            _ = table.Lookup(raw);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(6, 2)]
    [InlineData(4, 3)]
    [InlineData(6, 4)]
    public void RandomPrefixes_MatchLinearScanReference(int family, int seed)
    {
        var random = new Random(seed);
        int bytes = family == 4 ? 4 : 16;
        int bits = bytes * 8;
        var peers = Enumerable.Range(0, 20).Select(i => new Peer($"p{i}")).ToArray();
        var table = new AllowedIpsTable<Peer>();
        var reference = new Dictionary<(BigInteger Prefix, int Length), Peer>();
        int[] commonLengths = bits == 32 ? [0, 8, 16, 24, 32] : [0, 16, 32, 48, 64, 128];
        int hits = 0;

        // Clustered addresses (a few random top bytes) make overlaps likely.
        byte[] RandomAddress()
        {
            var address = new byte[bytes];
            random.NextBytes(address);
            address[0] = (byte)(10 + random.Next(2));
            if (random.Next(2) == 0)
            {
                address[1] = 0;
            }

            return address;
        }

        BigInteger ToInteger(byte[] address) => new(address, isUnsigned: true, isBigEndian: true);
        BigInteger MaskOf(int length) => length == 0 ? BigInteger.Zero : ((BigInteger.One << length) - 1) << (bits - length);

        Peer? Reference(byte[] address)
        {
            var value = ToInteger(address);
            Peer? best = null;
            int bestLength = -1;
            foreach (var ((prefix, length), peer) in reference)
            {
                if ((value & MaskOf(length)) == prefix && length > bestLength)
                {
                    best = peer;
                    bestLength = length;
                }
            }

            return best;
        }

        for (int round = 0; round < 2000; round++)
        {
            int op = random.Next(10);
            var address = RandomAddress();
            int length = random.Next(3) == 0 ? random.Next(bits + 1) : commonLengths[random.Next(commonLengths.Length)];
            var key = (ToInteger(address) & MaskOf(length), length);
            if (op < 6)
            {
                var peer = peers[random.Next(peers.Length)];
                table.Insert(new IPAddress(address), length, peer);
                reference[key] = peer;
            }
            else if (op < 8)
            {
                table.Remove(new IPAddress(address), length).Should().Be(reference.Remove(key));
            }
            else if (op == 8 && random.Next(10) == 0)
            {
                var peer = peers[random.Next(peers.Length)];
                table.RemoveAll(peer);
                foreach (var k in reference.Where(e => e.Value == peer).Select(e => e.Key).ToList())
                {
                    reference.Remove(k);
                }
            }

            table.Count.Should().Be(reference.Count);
            for (int probe = 0; probe < 5; probe++)
            {
                var target = RandomAddress();
                var expected = Reference(target);
                table.Lookup(target).Should().BeSameAs(expected);
                hits += expected is null ? 0 : 1;
            }
        }

        hits.Should().BeGreaterThan(1000, "the comparison must exercise matches, not only misses");
        foreach (var peer in peers)
        {
            var expected = reference.Where(e => e.Value == peer).Select(e => (e.Key.Prefix, e.Key.Length)).ToHashSet();
            table.PrefixesOf(peer).Select(p => (ToInteger(p.Address.GetAddressBytes()), p.PrefixLength)).ToHashSet().SetEquals(expected).Should().BeTrue();
        }
    }
}
