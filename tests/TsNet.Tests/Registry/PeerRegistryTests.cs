using System.Net;
using TsNet.Registry;

namespace TsNet.Tests.Registry;

/// <summary>The registry's snapshots: names, routes, identities, and atomic replacement.</summary>
public sealed class PeerRegistryTests
{
    private static RegistryPeer Peer(string? name, params string[] allowed)
    {
        var peer = new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = name };
        foreach (var prefix in allowed)
        {
            peer.AllowedIps.Add(IPNetwork.Parse(prefix));
        }

        return RegistryPeer.FromStatic(peer, "tailnet.example");
    }

    [Fact]
    public void FindByName_ShortAndDnsNames_AnyCase_OneTrailingDot()
    {
        var registry = new PeerRegistry();
        var db = Peer("db", "100.64.0.2/32");
        registry.AddOrUpdate(db);
        var snapshot = registry.Current;

        snapshot.FindByName("db").Should().BeSameAs(db);
        snapshot.FindByName("DB").Should().BeSameAs(db);
        snapshot.FindByName("db.tailnet.example").Should().BeSameAs(db);
        snapshot.FindByName("Db.Tailnet.Example.").Should().BeSameAs(db);
        snapshot.FindByName("db.other.example").Should().BeNull();
        snapshot.FindByName("web").Should().BeNull();
    }

    [Fact]
    public void FindByName_AShortNameBeatsAnotherPeersDnsName()
    {
        var registry = new PeerRegistry();
        var db = Peer("db", "100.64.0.2/32");
        var literal = Peer("db.tailnet.example", "100.64.0.3/32");
        registry.AddOrUpdate(db);
        registry.AddOrUpdate(literal);

        registry.Current.FindByName("db.tailnet.example").Should().BeSameAs(literal);
        registry.Current.FindByName("db").Should().BeSameAs(db);
    }

    [Fact]
    public void AddOrUpdate_PublishesANewSnapshot_AndLeavesTheOldOneAsItWas()
    {
        var registry = new PeerRegistry();
        var first = Peer("db", "100.64.0.2/32");
        registry.AddOrUpdate(first);
        var before = registry.Current;

        var renamed = RegistryPeer.FromStatic(
            new TailnetPeer { PublicKey = first.NodeKey, Name = "pg", AllowedIps = { IPNetwork.Parse("100.64.0.9/32") } }, null);
        var after = registry.AddOrUpdate(renamed);

        after.Should().BeSameAs(registry.Current);
        after.Version.Should().BeGreaterThan(before.Version);
        after.Count.Should().Be(1);
        after.FindByName("pg").Should().BeSameAs(renamed);
        after.FindByName("db").Should().BeNull();
        after.FindByAddress(IPAddress.Parse("100.64.0.9")).Should().BeSameAs(renamed);
        after.FindByAddress(IPAddress.Parse("100.64.0.2")).Should().BeNull();

        before.FindByName("db").Should().BeSameAs(first, "a snapshot never changes once published");
        before.FindByAddress(IPAddress.Parse("100.64.0.2")).Should().BeSameAs(first);
    }

    [Fact]
    public void Remove_DropsThePeerFromEveryIndex_AndUnknownKeysChangeNothing()
    {
        var registry = new PeerRegistry();
        var db = Peer("db", "100.64.0.2/32");
        var web = Peer("web", "100.64.0.3/32", "10.0.0.0/24");
        registry.AddOrUpdate(db);
        registry.AddOrUpdate(web);

        registry.Remove(WireGuardKey.Generate().PublicKey).Should().BeNull();
        var after = registry.Remove(web.NodeKey);

        after.Should().NotBeNull();
        after!.Peers.Should().Equal(db);
        after.TryGet(web.NodeKey, out _).Should().BeFalse();
        after.FindByName("web").Should().BeNull();
        after.FindByAddress(IPAddress.Parse("10.0.0.7")).Should().BeNull();
    }

    [Fact]
    public void FromStatic_AddressesAreTheHostEntries_IPv4First()
    {
        var peer = Peer("db", "fd7a::2/128", "10.0.0.0/24", "100.64.0.2/32");

        peer.Addresses.Should().Equal(IPAddress.Parse("100.64.0.2"), IPAddress.Parse("fd7a::2"));
        peer.DnsName.Should().Be("db.tailnet.example");
        peer.Identity.HostName.Should().Be("db");
        peer.Identity.NodeKey.Should().Be(peer.NodeKey);
        peer.Identity.Tags.Should().BeEmpty();
        peer.Identity.UserLoginName.Should().BeNull();
    }

    [Fact]
    public void SomeNames_IsBounded()
    {
        var registry = new PeerRegistry();
        for (var i = 0; i < 20; i++)
        {
            registry.AddOrUpdate(Peer("peer" + i));
        }

        registry.AddOrUpdate(Peer(null));
        var (names, more) = registry.Current.SomeNames(8);

        names.Should().Equal(Enumerable.Range(0, 8).Select(i => "peer" + i));
        more.Should().BeTrue();
        registry.Current.SomeNames(50).More.Should().BeFalse();
    }

    [Fact]
    public void ApplyDelta_RemovesAndUpsertsInOneSnapshot()
    {
        var registry = new PeerRegistry();
        var db = Peer("db", "100.64.0.2/32");
        var web = Peer("web", "100.64.0.3/32");
        registry.ReplaceAll([db, web]);
        var before = registry.Current;
        var mail = Peer("mail", "100.64.0.4/32");
        var dbMoved = RegistryPeer.FromStatic(new TailnetPeer { PublicKey = db.NodeKey, Name = "db", AllowedIps = { IPNetwork.Parse("100.64.0.12/32") } }, null);

        var after = registry.ApplyDelta([dbMoved, mail], [web.NodeKey]);

        after.Version.Should().Be(before.Version + 1, "one swap for the whole delta");
        after.Peers.Should().Equal(dbMoved, mail);
        after.FindByAddress(IPAddress.Parse("100.64.0.12")).Should().BeSameAs(dbMoved);
        after.FindByAddress(IPAddress.Parse("100.64.0.2")).Should().BeNull();
        after.FindByName("web").Should().BeNull();
        before.Peers.Should().Equal(db, web);
    }

    [Fact]
    public async Task Readers_SeeWholeSnapshots_WhileAWriterSwapsThem()
    {
        var registry = new PeerRegistry();
        var stable = Peer("stable", "100.64.0.2/32");
        registry.AddOrUpdate(stable);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var lookups = 0L;
        using var started = new CountdownEvent(2);

        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            started.Signal();
            while (!stop.IsCancellationRequested)
            {
                var snapshot = registry.Current;
                snapshot.FindByName("stable").Should().BeSameAs(stable);
                snapshot.FindByAddress(IPAddress.Parse("100.64.0.2")).Should().BeSameAs(stable);
                if (snapshot.FindByName("churn") is { } churn)
                {
                    // Within one snapshot the indexes agree: the name and the address lead to the same entry.
                    snapshot.FindByAddress(IPAddress.Parse("100.64.0.9")).Should().BeSameAs(churn);
                }

                Interlocked.Increment(ref lookups);
            }
        })).ToArray();

        started.Wait(stop.Token);
        var before = Interlocked.Read(ref lookups);
        for (var i = 0; i < 2000; i++)
        {
            var churn = Peer("churn", "100.64.0.9/32");
            registry.AddOrUpdate(churn);
            registry.Remove(churn.NodeKey).Should().NotBeNull();
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Interlocked.Read(ref lookups).Should().BeGreaterThan(before, "readers ran while the writer swapped snapshots");
        registry.Current.Peers.Should().Equal(stable);
    }

    [Fact]
    public void ReplaceAll_RefusesTheSameKeyTwice()
    {
        var registry = new PeerRegistry();
        var db = Peer("db");

        var act = () => registry.ReplaceAll([db, db]);

        act.Should().Throw<ArgumentException>().WithMessage("*twice*");
        registry.Current.Count.Should().Be(0);
    }
}
