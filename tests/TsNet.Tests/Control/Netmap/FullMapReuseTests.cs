using System.Net;
using TsNet.Control.Netmap;
using TsNet.Registry;
using static TsNet.Tests.Control.Netmap.NetmapJson;

namespace TsNet.Tests.Control.Netmap;

/// <summary>
/// A full map that repeats peers unchanged (what a server without deltas sends on every change) keeps their entries:
/// the registry is patched with the difference and the dataplane's diff holds only the changed peers.
/// </summary>
public sealed class FullMapReuseTests
{
    private static string FullMap(string domain, params string[] peers) =>
        """{"Node":SELF,"Domain":"DOMAIN","Peers":[PEERS],"UserProfiles":USERS}"""
            .Replace("SELF", Self, StringComparison.Ordinal).Replace("DOMAIN", domain, StringComparison.Ordinal)
            .Replace("PEERS", string.Join(",", peers), StringComparison.Ordinal).Replace("USERS", Users(Enumerable.Range(1, 20).Select(i => (long)i).ToArray()), StringComparison.Ordinal);

    private static string[] Peers(int count, Func<int, string>? extra = null) =>
        [.. Enumerable.Range(2, count).Select(i => Peer(i, (byte)(0x10 + i), "peer" + i, i, extra?.Invoke(i) ?? ""))];

    [Fact]
    public void UnchangedPeers_KeepTheirEntries_TheRegistryIsPatched_TheDiffHoldsTheChange()
    {
        var folder = new NetmapFolder(TimeProvider.System, fullMapsOnly: true);
        var registry = new PeerRegistry();
        var first = folder.Apply(Map(FullMap("tailnet.example", Peers(12))))!;
        var before = first.ApplyTo(registry)!;

        var peers = Peers(12);
        peers[3] = Peer(5, 0x15, "peer5", 5, ""","HomeDERP":7""");
        var second = folder.Apply(Map(FullMap("tailnet.example", peers)))!;
        var after = second.ApplyTo(registry)!;

        second.IsFull.Should().BeTrue();
        var changed = after.FindByName("peer5")!;
        changed.HomeDerpRegion.Should().Be(7);
        after.Peers.Where(p => p != changed).Should().OnlyContain(p => before.Peers.Contains(p), "unchanged peers are the same entries");
        after.Patched.Should().BeTrue("one changed peer patches the snapshot");
        var diff = PeerRegistryDiff.Between(before, after);
        diff.Upserts.Should().Equal(changed);
        diff.Removals.Should().BeEmpty();
        second.Netmap.CompactPeers.Should().HaveCount(12);
    }

    [Fact]
    public void OnlyLastSeenChanged_KeepsTheEntry_AndTheNewLastSeen()
    {
        var folder = new NetmapFolder(TimeProvider.System, fullMapsOnly: true);
        var registry = new PeerRegistry();
        folder.Apply(Map(FullMap("tailnet.example", Peers(10))))!.ApplyTo(registry);
        var before = registry.Current;

        var update = folder.Apply(Map(FullMap("tailnet.example", Peers(10, i => i == 4 ? ""","LastSeen":"2030-01-01T00:00:00Z","Cap":120""" : ""))))!;
        var after = update.ApplyTo(registry)!;

        PeerRegistryDiff.Between(before, after).IsEmpty.Should().BeTrue("the registry holds no last-seen time");
        var peer = update.Netmap.CompactPeers.Single(p => p.Id == 4);
        peer.LastSeen.Should().Be(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        peer.Cap.Should().Be(120);
        peer.Addresses.Should().BeSameAs(after.FindByName("peer4")!.AllowedIps, "the compact form shares the entry's arrays");
    }

    [Fact]
    public void ANewDomain_RemakesEveryEntry_AKeyMovingBetweenPeersLandsOnItsNewOwner()
    {
        var folder = new NetmapFolder(TimeProvider.System, fullMapsOnly: true);
        var registry = new PeerRegistry();
        folder.Apply(Map(FullMap("tailnet.example", Peers(10))))!.ApplyTo(registry);
        var before = registry.Current;

        var renamed = folder.Apply(Map(FullMap("other.example", Peers(10))))!.ApplyTo(registry)!;

        renamed.Peers.Should().NotIntersectWith(before.Peers);
        renamed.FindByName("peer3.other.example").Should().NotBeNull();
        renamed.FindByName("peer3.tailnet.example").Should().BeNull();

        // Peer 3's key goes to a new peer 30; peer 3 is gone.
        var peers = Peers(10).Where(p => !p.Contains("\"ID\":3,", StringComparison.Ordinal)).Append(Peer(30, 0x13, "thirty", 30)).ToArray();
        var moved = folder.Apply(Map(FullMap("other.example", peers)))!.ApplyTo(registry)!;
        moved.FindByName("thirty")!.NodeKey.Should().Be(Key(0x13));
        moved.FindByName("peer3").Should().BeNull();
        moved.FindByAddress(IPAddress.Parse("100.64.0.3")).Should().BeNull();
        moved.Count.Should().Be(10);
    }

    [Fact]
    public void Reconcile_KeepsHeldEntriesInPlace_AndRefusesAKeyTwice()
    {
        var registry = new PeerRegistry();
        var peers = Enumerable.Range(0, 10).Select(i => RegistryPeer.FromStatic(
            new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = "p" + i, AllowedIps = { IPNetwork.Parse($"100.64.1.{i + 1}/32") } }, null)).ToArray();
        registry.Reconcile(peers);
        var extra = RegistryPeer.FromStatic(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = "x" }, null);

        var after = registry.Reconcile([extra, .. peers.Skip(1)]);

        after.Peers.Should().Equal([.. peers.Skip(1), extra]);
        var act = () => registry.Reconcile([extra, extra]);
        act.Should().Throw<ArgumentException>().WithMessage("*twice*");
        registry.Current.Should().BeSameAs(after);
    }
}
