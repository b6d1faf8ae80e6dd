using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Registry;

namespace TsNet.Benchmarks.Control;

/// <summary>
/// <c>TsNet.Benchmarks netmap [--peers 10000] [--delta 100] [--rounds 5]</c>: a synthetic network map of
/// <c>--peers</c> peers (generated JSON shaped like a real server's: keys, two addresses, two endpoints, home DERP,
/// Hostinfo with services, user profiles) applied as a full map — zstd decode, JSON parse, fold
/// (<see cref="NetmapFolder"/>, registry entries included) and the registry snapshot (<see cref="PeerRegistry.ReplaceAll"/>)
/// timed apart — then a <c>--delta</c>-peer <c>PeersChanged</c> delta the same way, and the managed bytes held per
/// peer by the folder and the registry after the full map. Output: one <c>key=value</c> line per round and a summary
/// line of medians. Goals (design §7): full map &lt; 100 ms, &lt; 2 KiB per peer.
/// </summary>
internal static class NetmapBenchCommand
{
    public static int Run(string[] args)
    {
        var peers = 10_000;
        var delta = 100;
        var rounds = 5;
        for (var i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--peers":
                    peers = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--delta":
                    delta = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--rounds":
                    rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
            }
        }

        var fullJson = Encoding.UTF8.GetBytes(FullMap(peers));
        var deltaJson = Encoding.UTF8.GetBytes(Delta(peers, delta));
        using var compressor = new ZstdSharp.Compressor(3);
        var fullZstd = compressor.Wrap(fullJson).ToArray();
        Console.WriteLine($"peers={peers} json_bytes={fullJson.Length} zstd_bytes={fullZstd.Length} delta_peers={delta} delta_json_bytes={deltaJson.Length}");

        var results = new List<double[]>();
        for (var round = 0; round < rounds + 1; round++)
        {
            var r = RunRound(fullJson, fullZstd, deltaJson, peers);
            if (round > 0)
            {
                // Round 0 warms up the JIT and is not reported.
                results.Add(r);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round={round} full_zstd_ms={r[0]:F1} full_parse_ms={r[1]:F1} full_fold_ms={r[2]:F1} full_snapshot_ms={r[3]:F1} full_total_ms={r[0] + r[1] + r[2] + r[3]:F1} delta_parse_ms={r[4]:F2} delta_fold_ms={r[5]:F2} delta_snapshot_ms={r[6]:F2} delta_total_ms={r[4] + r[5] + r[6]:F2} bytes_per_peer={r[7]:F0} wire_model_bytes_per_peer={r[8]:F0} registry_snapshot_bytes_per_peer={r[9]:F0}"));
            }
        }

        double Median(int index) => results.Select(r => r[index]).Order().ElementAt(results.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median full_total_ms={Median(0) + Median(1) + Median(2) + Median(3):F1} (zstd {Median(0):F1} parse {Median(1):F1} fold {Median(2):F1} snapshot {Median(3):F1}) delta_total_ms={Median(4) + Median(5) + Median(6):F2} (parse {Median(4):F2} fold {Median(5):F2} snapshot {Median(6):F2}) bytes_per_peer={Median(7):F0} (parsed wire model alone {Median(8):F0}, registry snapshot {Median(9):F0})"));
        return 0;
    }

    private static double[] RunRound(byte[] fullJson, byte[] fullZstd, byte[] deltaJson, int peers)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var folder = new NetmapFolder(TimeProvider.System);
        var registry = new PeerRegistry();

        var clock = Stopwatch.StartNew();
        var decompressed = MapFrame.Decompress(fullZstd);
        var zstdMs = clock.Elapsed.TotalMilliseconds;
        if (decompressed.Length != fullJson.Length)
        {
            throw new InvalidOperationException("zstd round trip lost bytes");
        }

        clock.Restart();
        var full = MapFrame.Decode(decompressed, zstd: false);
        var parseMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var update = folder.Apply(full)!;
        var foldMs = clock.Elapsed.TotalMilliseconds;

        // The registry's share: measured around the snapshot alone (the message stays referenced by both readings).
        var beforeSnapshot = GC.GetTotalMemory(forceFullCollection: true);
        clock.Restart();
        update.ApplyTo(registry);
        var snapshotMs = clock.Elapsed.TotalMilliseconds;
        var snapshotHeld = GC.GetTotalMemory(forceFullCollection: true) - beforeSnapshot;
        if (registry.Current.Count != peers)
        {
            throw new InvalidOperationException($"registry holds {registry.Current.Count} peers, expected {peers}");
        }

        // What stays: the folder (its nodes and entries) and the registry snapshot; the message and JSON may go.
        decompressed = null;
        full = null;
        update = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;

        clock.Restart();
        var deltaMessage = MapFrame.Decode(deltaJson, zstd: false);
        var deltaParseMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var deltaUpdate = folder.Apply(deltaMessage)!;
        var deltaFoldMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        deltaUpdate.ApplyTo(registry);
        var deltaSnapshotMs = clock.Elapsed.TotalMilliseconds;
        if (deltaUpdate.IsFull || registry.Current.Count != peers)
        {
            throw new InvalidOperationException("the delta was not applied as a delta");
        }

        GC.KeepAlive(folder);

        // For comparison: what the parsed message alone holds (the wire model's share of the bytes per peer).
        folder = null;
        registry = null;
        deltaMessage = null;
        deltaUpdate = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        before = GC.GetTotalMemory(forceFullCollection: true);
        var parsedOnly = MapFrame.Decode(fullJson, zstd: false);
        var wireHeld = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(parsedOnly);
        return [zstdMs, parseMs, foldMs, snapshotMs, deltaParseMs, deltaFoldMs, deltaSnapshotMs, (double)held / peers, (double)wireHeld / peers, (double)snapshotHeld / peers];
    }

    private static string FullMap(int peers)
    {
        var json = new StringBuilder(peers * 1100);
        json.Append("""{"Node":""").Append(NodeJson(0, "self")).Append(""","Domain":"tailnet.example","Peers":[""");
        for (var i = 1; i <= peers; i++)
        {
            json.Append(i == 1 ? "" : ",").Append(NodeJson(i, "node" + i.ToString(CultureInfo.InvariantCulture)));
        }

        json.Append("""],"UserProfiles":[""");
        for (var u = 0; u < 100; u++)
        {
            json.Append(u == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $$"""{"ID":{{u}},"LoginName":"user-{{u}}@example.com","DisplayName":"User {{u}}"}""");
        }

        json.Append("""],"PacketFilter":[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}],"DERPMap":{"Regions":{"1":{"RegionID":1,"Nodes":[{"Name":"1a","RegionID":1,"HostName":"derp.example"}]}}},"DNSConfig":{"Domains":["tailnet.example"],"Proxied":true},"ControlTime":"2026-01-01T00:00:00Z"}""");
        return json.ToString();
    }

    private static string Delta(int peers, int delta)
    {
        var json = new StringBuilder("""{"PeersChanged":[""");
        for (var i = 0; i < delta; i++)
        {
            var id = 1 + (i * Math.Max(1, peers / delta));
            json.Append(i == 0 ? "" : ",").Append(NodeJson(id, "moved" + id.ToString(CultureInfo.InvariantCulture)));
        }

        return json.Append("]}").ToString();
    }

    private static string NodeJson(int id, string name)
    {
        // Random-looking like real keys (WireGuardKey hashes its first bytes: a shared prefix would collide).
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes((long)id + 1)));
        var a = id >> 8 & 0xff;
        var b = id & 0xff;
        return string.Create(CultureInfo.InvariantCulture, $$"""
            {"ID":{{id}},"StableID":"n{{id}}CNTRL","Name":"{{name}}.tailnet.example.","User":{{id % 100}},"Key":"nodekey:{{key}}","KeyExpiry":"2027-01-01T00:00:00Z","Machine":"mkey:{{key}}","DiscoKey":"discokey:{{key}}","Addresses":["100.64.{{a}}.{{b}}/32","fd7a:115c:a1e0::{{a:x}}:{{b:x}}/128"],"AllowedIPs":null,"Endpoints":["198.51.{{a}}.{{b}}:41641","10.0.{{a}}.{{b}}:41641"],"HomeDERP":1,"Hostinfo":{"OS":"linux","Hostname":"{{name}}","Services":[{"Proto":"peerapi4","Port":36297},{"Proto":"peerapi6","Port":40008}]},"Created":"2025-07-29T18:31:27.550535802Z","Cap":115,"Tags":null,"Online":true,"MachineAuthorized":true}
            """);
    }
}
