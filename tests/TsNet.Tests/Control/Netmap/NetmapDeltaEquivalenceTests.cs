using System.Globalization;
using System.Net;
using System.Text;
using TsNet.Control.Netmap;
using TsNet.Registry;
using static TsNet.Tests.Control.Netmap.NetmapJson;

namespace TsNet.Tests.Control.Netmap;

/// <summary>
/// Deltas folded one after another (each applied to the registry as a delta) leave the registry answering exactly as a
/// fresh folder given the same peers as one full map: random <c>PeersChanged</c>, <c>PeersRemoved</c>,
/// <c>PeersChangedPatch</c> (keys, endpoints, DERP, expiry), <c>OnlineChange</c> with a fixed seed — or the same changes
/// sent as full maps, which keep unchanged peers' entries and patch the registry. Names and keys are
/// unique here: which of two peers with the same name or key wins depends on their order, which the two ways differ in.
/// </summary>
public sealed class NetmapDeltaEquivalenceTests
{
    [Theory]
    [InlineData(21, false)]
    [InlineData(22, false)]
    [InlineData(23, false)]
    [InlineData(24, true)]
    [InlineData(25, true)]
    public void RandomDeltas_GiveTheRegistryAFullMapGives(int seed, bool asFullMaps)
    {
        var random = new Random(seed);
        var model = new Dictionary<long, ModelPeer>();
        var nextId = 2L;
        var nextKey = 0x10;
        ModelPeer NewPeer() => new(nextId, (byte)nextKey++, "peer" + nextId, (int)nextId++, random.Next(1, 4), random.Next(4) != 0, null, random.Next(10) == 0);
        for (var i = 0; i < 40; i++)
        {
            var peer = NewPeer();
            model[peer.Id] = peer;
        }

        var folder = new NetmapFolder(TimeProvider.System);
        var registry = new PeerRegistry();
        folder.Apply(Map(FullMap(model.Values)))!.ApplyTo(registry);
        var patchedSnapshots = 0;
        for (var step = 0; step < 150 && nextKey < 250; step++)
        {
            var changed = new List<ModelPeer>();
            var removed = new List<long>();
            var patches = new List<string>();
            var online = new List<string>();
            foreach (var peer in model.Values.OrderBy(_ => random.Next()).Take(random.Next(1, 5)).ToList())
            {
                switch (random.Next(5))
                {
                    case 0 when model.Count > 20:
                        removed.Add(peer.Id);
                        model.Remove(peer.Id);
                        break;
                    case 1:
                        var renamed = peer with { Name = "renamed" + peer.Id + "x" + step, Derp = random.Next(1, 4) };
                        changed.Add(renamed);
                        model[peer.Id] = renamed;
                        break;
                    case 2:
                        var rekeyed = peer with { Key = (byte)nextKey++, Endpoint = random.Next(2) == 0 ? null : $"192.0.2.{random.Next(1, 250)}:41641" };
                        patches.Add($$"""{"NodeID":{{peer.Id}},"Key":"{{NodeKey(rekeyed.Key)}}","Endpoints":[{{(rekeyed.Endpoint is null ? "" : "\"" + rekeyed.Endpoint + "\"")}}]}""");
                        model[peer.Id] = rekeyed;
                        break;
                    case 3:
                        var moved = peer with { Derp = random.Next(5, 9), Expiry = new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(random.Next(100)) };
                        patches.Add($$"""{"NodeID":{{peer.Id}},"DERPRegion":{{moved.Derp}},"KeyExpiry":"{{moved.Expiry!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}}"}""");
                        model[peer.Id] = moved;
                        break;
                    default:
                        var flipped = peer with { Online = !peer.Online };
                        online.Add($"\"{peer.Id}\":{(flipped.Online ? "true" : "false")}");
                        model[peer.Id] = flipped;
                        break;
                }
            }

            if (random.Next(4) == 0)
            {
                var added = NewPeer();
                changed.Add(added);
                model[added.Id] = added;
            }

            var delta = new StringBuilder("{");
            delta.Append("\"PeersRemoved\":[").Append(string.Join(",", removed)).Append("],");
            delta.Append("\"PeersChanged\":[").Append(string.Join(",", changed.Select(p => p.Json()))).Append("],");
            delta.Append("\"PeersChangedPatch\":[").Append(string.Join(",", patches)).Append("],");
            delta.Append("\"OnlineChange\":{").Append(string.Join(",", online)).Append("}}");
            // As full maps (a server without deltas): the same changes, each message the whole peer list.
            var update = folder.Apply(Map(asFullMaps ? FullMap(model.Values) : delta.ToString()))!;
            update.IsFull.Should().Be(asFullMaps);
            var snapshot = update.ApplyTo(registry) ?? registry.Current;
            if (snapshot.Patched)
            {
                patchedSnapshots++;
            }

            var fresh = new PeerRegistry();
            new NetmapFolder(TimeProvider.System).Apply(Map(FullMap(model.Values)))!.ApplyTo(fresh);
            Describe(snapshot, model.Values).Should().Equal(Describe(fresh.Current, model.Values), "step {0}: {1}", step, delta);
            update.Netmap.CompactPeers.Select(p => p.Id).Order().Should().Equal(model.Keys.Order());
        }

        patchedSnapshots.Should().BeGreaterThan(50, "the registry patches these small changes, in deltas and in full maps alike");
    }

    private static string FullMap(IEnumerable<ModelPeer> peers) =>
        """{"Node":SELF,"Domain":"tailnet.example","Peers":[PEERS],"UserProfiles":USERS}"""
            .Replace("SELF", Self, StringComparison.Ordinal)
            .Replace("PEERS", string.Join(",", peers.Select(p => p.Json())), StringComparison.Ordinal)
            .Replace("USERS", Users(1, 2, 3), StringComparison.Ordinal);

    // Every registry fact of every peer, by node key (the two registries hold different instances, in other orders),
    // and what each name and address leads to.
    private static List<string> Describe(PeerRegistrySnapshot snapshot, IEnumerable<ModelPeer> model)
    {
        var facts = snapshot.Peers
            .Select(p => string.Join('|', p.NodeKey, p.Name, p.DnsName, p.Endpoint, string.Join(',', p.Endpoints), string.Join(',', p.AllowedIps),
                string.Join(',', p.Addresses), p.HomeDerpRegion, p.Online, p.KeyExpiry, p.DiscoKey, p.UserLoginName, p.UserDisplayName, string.Join(',', p.Tags), p.Source))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var peer in model.OrderBy(p => p.Id))
        {
            facts.Add(peer.Name + "=" + snapshot.FindByName(peer.Name)?.NodeKey);
            facts.Add(peer.Name + ".tailnet.example=" + snapshot.FindByName(peer.Name + ".tailnet.example")?.NodeKey);
            facts.Add(peer.Address + "=" + snapshot.FindByAddress(IPAddress.Parse(peer.Address))?.NodeKey);
        }

        return facts;
    }

    private sealed record ModelPeer(long Id, byte Key, string Name, int Host, int Derp, bool Online, DateTimeOffset? Expiry, bool Expired)
    {
        public string? Endpoint { get; init; } = $"192.0.2.{Host % 250 + 1}:41641";

        public string Address => $"100.64.{Host / 250}.{Host % 250 + 1}";

        public string Json() =>
            $$"""
            {"ID":{{Id}},"Name":"{{Name}}","User":{{Id % 3 + 1}},"Key":"{{NodeKey(Key)}}","DiscoKey":"discokey:{{new string('d', 64)}}",
             "KeyExpiry":"{{(Expiry is { } expiry ? expiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "0001-01-01T00:00:00Z")}}",
             "Addresses":["{{Address}}/32"],"Endpoints":[{{(Endpoint is null ? "" : "\"" + Endpoint + "\"")}}],"HomeDERP":{{Derp}},
             "Online":{{(Online ? "true" : "false")}},"Expired":{{(Expired ? "true" : "false")}},"Tags":["tag:t{{Id % 2}}"]}
            """;
    }
}
