using System.Net;
using TsNet.Registry;

namespace TsNet.Tests.Registry;

/// <summary>
/// A snapshot patched from the previous one (<see cref="PeerRegistrySnapshot.WithChanges"/>) answers exactly as one
/// built whole from the same peer list: random deltas with a fixed seed, names that sometimes collide (short against
/// DNS names too) and prefixes that sometimes are shared, so both the patch and the rebuild are taken.
/// </summary>
public sealed class PeerRegistryPatchTests
{
    private const string Suffix = "tailnet.example";

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void RandomDeltas_GiveTheSnapshotAFullBuildGives(int seed)
    {
        var random = new Random(seed);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var probes = new HashSet<IPAddress>();
        var keys = new List<WireGuardKey>();
        var registry = new PeerRegistry();
        registry.ReplaceAll([.. Enumerable.Range(0, 80).Select(_ => RandomPeer(random, noisy: false, names, probes, keys))]);
        var patched = 0;
        var rebuilt = 0;
        for (var step = 0; step < 300; step++)
        {
            var before = registry.Current;
            // Stretches with colliding names and shared routes, then a step that removes every such peer.
            var noisy = step % 100 >= 60;
            var upserts = new List<RegistryPeer>();
            var removals = step % 100 == 0
                ? before.Peers.Where(p => p.Name is "db" or "db." + Suffix || p.AllowedIps.Count > 2).Select(p => p.NodeKey).ToList()
                : [];
            for (var change = random.Next(1, 6); change > 0; change--)
            {
                switch (random.Next(3))
                {
                    case 0 when before.Count > 40:
                        removals.Add(before.Peers[random.Next(before.Count)].NodeKey);
                        break;
                    case 1 when before.Count > 0:
                        // The same key with new settings (it moves to the end).
                        var key = before.Peers[random.Next(before.Count)].NodeKey;
                        if (upserts.All(p => p.NodeKey != key))
                        {
                            upserts.Add(RandomPeer(random, noisy, names, probes, keys, key));
                        }

                        break;
                    default:
                        upserts.Add(RandomPeer(random, noisy, names, probes, keys));
                        break;
                }
            }

            var beforeAnswers = Answers(before, names, probes, keys);
            var after = registry.ApplyDelta(upserts, removals);
            var whole = PeerRegistrySnapshot.Create(after.Version, [.. after.Peers]);

            after.Peers.Should().Equal(ExpectedOrder(before, upserts, removals), "step {0}", step);
            Answers(after, names, probes, keys).Should().Equal(Answers(whole, names, probes, keys), "step {0} (patched: {1})", step, after.Patched);
            Answers(before, names, probes, keys).Should().Equal(beforeAnswers, "a change never alters the snapshot it started from");
            if (after.Patched)
            {
                patched++;
            }
            else
            {
                rebuilt++;
            }
        }

        patched.Should().BeGreaterThan(50, "most small deltas are patched");
        rebuilt.Should().BeGreaterThan(5, "colliding names and shared prefixes make some rebuild");
    }

    [Fact]
    public void ASmallDelta_IsPatched_AndAShortNameStillBeatsADnsName()
    {
        var registry = new PeerRegistry();
        var peers = Enumerable.Range(0, 20).Select(i => Peer("peer" + i, $"100.64.0.{i + 1}/32")).ToArray();
        registry.ReplaceAll(peers);

        var literal = Peer("peer3." + Suffix, "100.64.1.1/32");
        var after = registry.ApplyDelta([literal], []);

        after.Patched.Should().BeTrue();
        after.FindByName("peer3." + Suffix).Should().BeSameAs(literal, "a short name beats another peer's DNS name, whatever the order");
        after.FindByName("peer3").Should().BeSameAs(peers[3]);
        after.FindByAddress(IPAddress.Parse("100.64.1.1")).Should().BeSameAs(literal);

        var next = registry.ApplyDelta([], [literal.NodeKey]);
        next.Patched.Should().BeFalse("the DNS name lost to it has to be found again: a rebuild does that");
        next.FindByName("peer3." + Suffix).Should().BeSameAs(peers[3]);
    }

    private static RegistryPeer Peer(string? name, params string[] allowed)
    {
        var peer = new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = name };
        foreach (var prefix in allowed)
        {
            peer.AllowedIps.Add(IPNetwork.Parse(prefix));
        }

        return RegistryPeer.FromStatic(peer, Suffix);
    }

    // Unique names and addresses (but for a rare unnamed peer); when noisy, now and then a name another peer has (also
    // a short name spelled as another peer's DNS name) or a subnet route another peer has.
    private static RegistryPeer RandomPeer(Random random, bool noisy, HashSet<string> names, HashSet<IPAddress> probes, List<WireGuardKey> keys, WireGuardKey? key = null)
    {
        var name = random.Next(noisy ? 8 : 1000) switch
        {
            0 => "db",
            1 => "db." + Suffix,
            2 => null,
            _ => "n" + random.Next(1_000_000),
        };
        var host = new IPAddress([100, 64, (byte)random.Next(256), (byte)random.Next(256)]);
        var peer = new TailnetPeer { PublicKey = key ?? WireGuardKey.Generate().PublicKey, Name = name };
        peer.AllowedIps.Add(new IPNetwork(host, 32));
        peer.AllowedIps.Add(new IPNetwork(IPAddress.Parse($"fd7a:115c:a1e0::{random.Next(65536):x}"), 128));
        if (noisy && random.Next(8) == 0)
        {
            peer.AllowedIps.Add(new IPNetwork(new IPAddress([10, 0, (byte)random.Next(2), 0]), 24));
        }

        foreach (var prefix in peer.AllowedIps)
        {
            probes.Add(prefix.BaseAddress);
        }

        var entry = RegistryPeer.FromStatic(peer, Suffix);
        if (entry.Name is { } shortName)
        {
            names.Add(shortName);
            names.Add(entry.DnsName!);
        }

        keys.Add(entry.NodeKey);
        return entry;
    }

    private static List<RegistryPeer> ExpectedOrder(PeerRegistrySnapshot before, List<RegistryPeer> upserts, List<WireGuardKey> removals)
    {
        var gone = removals.Concat(upserts.Select(p => p.NodeKey)).ToHashSet();
        return [.. before.Peers.Where(p => !gone.Contains(p.NodeKey)), .. upserts];
    }

    // Every lookup a reader can make, answered by entry (reference), in a fixed order.
    private static List<object?> Answers(PeerRegistrySnapshot snapshot, HashSet<string> names, HashSet<IPAddress> probes, List<WireGuardKey> keys)
    {
        var answers = new List<object?> { snapshot.Count };
        answers.AddRange(names.Order(StringComparer.Ordinal).Select(snapshot.FindByName));
        answers.AddRange(probes.Select(snapshot.FindByAddress));
        answers.AddRange(keys.Select(key => snapshot.TryGet(key, out var peer) ? peer : null));
        return answers;
    }
}
