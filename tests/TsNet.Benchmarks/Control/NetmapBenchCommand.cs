using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
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
/// peer by the folder and the registry after the full map. Each phase also reports what it allocated and the GC
/// pause it caused, and the full map is sent again with the delta's peers changed back (a server without deltas sends
/// every change so). A last pass runs a stand-in dataplane thread (wakes every millisecond and reads the registry)
/// while maps apply on another thread and reports its worst wake-up delay, next to the same measure while nothing
/// applies. Output: one <c>key=value</c> line per round, a summary line of medians and the stall line.
/// Goals (design §7): full map &lt; 100 ms, &lt; 2 KiB per peer, the dataplane never blocked.
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
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"peers={peers} json_bytes={fullJson.Length} zstd_bytes={fullZstd.Length} delta_peers={delta} delta_json_bytes={deltaJson.Length} gc={(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}"));

        var results = new List<Dictionary<string, double>>();
        for (var round = 0; round < rounds + 1; round++)
        {
            var r = RunRound(fullJson, fullZstd, deltaJson, peers);
            if (round > 0)
            {
                // Round 0 warms up the JIT and is not reported.
                results.Add(r);
                Console.WriteLine($"round={round} " + string.Join(' ', r.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value:0.##}"))));
            }
        }

        double Median(string key) => results.Select(r => r[key]).Order().ElementAt(results.Count / 2);
        double Min(string key) => results.Select(r => r[key]).Min();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median full_total_ms={Median("full_total_ms"):F1} (min {Min("full_total_ms"):F1}; zstd {Median("full_zstd_ms"):F1} parse {Median("full_parse_ms"):F1} fold {Median("full_fold_ms"):F1} snapshot {Median("full_snapshot_ms"):F1}) full_apply_ms={Median("full_apply_ms"):F1} (fold+snapshot, min {Min("full_apply_ms"):F1}) delta_total_ms={Median("delta_total_ms"):F2} (parse {Median("delta_parse_ms"):F2} fold {Median("delta_fold_ms"):F2} snapshot {Median("delta_snapshot_ms"):F2}) bytes_per_peer={Median("held_bytes_per_peer"):F0} (registry snapshot indexes {Median("held_snapshot_bytes_per_peer"):F0}; parsed wire model alone {Median("wire_model_bytes_per_peer"):F0})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median profile: compact_ms={Median("p_compact_ms"):F1} entries_ms={Median("p_entries_ms"):F1} trie_ms={Median("p_trie_ms"):F1} snapshot_create_ms={Median("p_snapshot_ms"):F1} held_per_peer compact={Median("p_compact_held_per_peer"):F0} entries={Median("p_entries_held_per_peer"):F0} snapshot={Median("p_snapshot_held_per_peer"):F0} folder={Median("p_folder_held_per_peer"):F0} alloc_per_peer parse={Median("full_parse_alloc_per_peer"):F0} fold={Median("full_fold_alloc_per_peer"):F0} snapshot={Median("full_snapshot_alloc_per_peer"):F0} delta_alloc_kib={Median("delta_alloc_kib"):F0} gc_pause_full_ms={Median("full_gc_pause_ms"):F1} gc_pause_delta_ms={Median("delta_gc_pause_ms"):F2}"));

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median repeated full map ({delta} peers changed, as from a server without deltas): apply_ms={Median("refull_apply_ms"):F1} (min {Min("refull_apply_ms"):F1}; fold {Median("refull_fold_ms"):F1} snapshot {Median("refull_snapshot_ms"):F1}; parse {Median("refull_parse_ms"):F1}) registry_patched={Median("refull_patched"):F0} dataplane_diff_peers={Median("refull_diff_peers"):F0} gc_pause_ms={Median("refull_gc_pause_ms"):F1}"));

        Stall(fullJson, deltaJson, peers);
        return 0;
    }

    private static Dictionary<string, double> RunRound(byte[] fullJson, byte[] fullZstd, byte[] deltaJson, int peers)
    {
        var r = new Dictionary<string, double>();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var folder = new NetmapFolder(TimeProvider.System);
        var registry = new PeerRegistry();

        ApplyFull(fullJson, fullZstd, peers, folder, registry, r);

        // What stays: the folder (its nodes and entries) and the registry snapshot; the message and JSON may go.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        r["held_bytes_per_peer"] = (double)held / peers;

        var gcBefore = GC.GetTotalPauseDuration();
        var deltaAllocated = GC.GetAllocatedBytesForCurrentThread();
        var phase = Phase.Start();
        var deltaMessage = MapFrame.Decode(deltaJson, zstd: false);
        r["delta_parse_ms"] = phase.Ms;
        phase = Phase.Start();
        var deltaUpdate = folder.Apply(deltaMessage)!;
        r["delta_fold_ms"] = phase.Ms;
        phase = Phase.Start();
        deltaUpdate.ApplyTo(registry);
        r["delta_snapshot_ms"] = phase.Ms;
        r["delta_total_ms"] = r["delta_parse_ms"] + r["delta_fold_ms"] + r["delta_snapshot_ms"];
        r["delta_alloc_kib"] = (GC.GetAllocatedBytesForCurrentThread() - deltaAllocated) / 1024.0;
        r["delta_gc_pause_ms"] = (GC.GetTotalPauseDuration() - gcBefore).TotalMilliseconds;
        if (deltaUpdate.IsFull || registry.Current.Count != peers)
        {
            throw new InvalidOperationException("the delta was not applied as a delta");
        }

        // The same change as a server without deltas sends it: the whole map again, --delta peers different.
        var beforeRefull = registry.Current;
        gcBefore = GC.GetTotalPauseDuration();
        phase = Phase.Start();
        var refull = MapFrame.Decode(fullJson, zstd: false);
        r["refull_parse_ms"] = phase.Ms;
        phase = Phase.Start();
        var refullUpdate = folder.Apply(refull)!;
        r["refull_fold_ms"] = phase.Ms;
        phase = Phase.Start();
        var afterRefull = refullUpdate.ApplyTo(registry)!;
        r["refull_snapshot_ms"] = phase.Ms;
        r["refull_apply_ms"] = r["refull_fold_ms"] + r["refull_snapshot_ms"];
        r["refull_gc_pause_ms"] = (GC.GetTotalPauseDuration() - gcBefore).TotalMilliseconds;
        r["refull_patched"] = afterRefull.Patched ? 1 : 0;
        r["refull_diff_peers"] = PeerRegistryDiff.Between(beforeRefull, afterRefull).Upserts.Count;
        refull = null;
        refullUpdate = null;

        GC.KeepAlive(folder);

        // For comparison: what the parsed message alone holds (the wire model's share of the bytes per peer).
        folder = null;
        registry = null;
        deltaMessage = null;
        deltaUpdate = null;
        beforeRefull = null;
        afterRefull = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        before = GC.GetTotalMemory(forceFullCollection: true);
        var parsedOnly = Parse(fullJson);
        r["wire_model_bytes_per_peer"] = (double)(GC.GetTotalMemory(forceFullCollection: true) - before) / peers;
        Profile(parsedOnly, r);
        GC.KeepAlive(parsedOnly);
        return r;
    }

    /// <summary>
    /// The full map's phases. A method of its own so that nothing of the message (the JSON buffer, the parsed model,
    /// temporaries the JIT keeps) is still referenced when the caller measures what stays.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ApplyFull(byte[] fullJson, byte[] fullZstd, int peers, NetmapFolder folder, PeerRegistry registry, Dictionary<string, double> r)
    {
        var phase = Phase.Start();
        var decompressed = MapFrame.Decompress(fullZstd);
        r["full_zstd_ms"] = phase.Ms;
        if (decompressed.Length != fullJson.Length)
        {
            throw new InvalidOperationException("zstd round trip lost bytes");
        }

        var gcBefore = GC.GetTotalPauseDuration();
        phase = Phase.Start();
        var full = MapFrame.Decode(decompressed, zstd: false);
        r["full_parse_ms"] = phase.Ms;
        r["full_parse_alloc_per_peer"] = phase.Allocated / peers;
        phase = Phase.Start();
        var update = folder.Apply(full)!;
        r["full_fold_ms"] = phase.Ms;
        r["full_fold_alloc_per_peer"] = phase.Allocated / peers;
        var foldMs = phase.Ms;

        // The registry's share: measured around the snapshot alone (the message stays referenced by both readings).
        var gcPause = GC.GetTotalPauseDuration() - gcBefore;
        var beforeSnapshot = GC.GetTotalMemory(forceFullCollection: true);
        gcBefore = GC.GetTotalPauseDuration();
        phase = Phase.Start();
        update.ApplyTo(registry);
        r["full_snapshot_ms"] = phase.Ms;
        r["full_snapshot_alloc_per_peer"] = phase.Allocated / peers;
        gcPause += GC.GetTotalPauseDuration() - gcBefore;
        r["full_gc_pause_ms"] = gcPause.TotalMilliseconds;
        r["full_apply_ms"] = foldMs + r["full_snapshot_ms"];
        r["full_total_ms"] = r["full_zstd_ms"] + r["full_parse_ms"] + r["full_apply_ms"];
        r["held_snapshot_bytes_per_peer"] = (double)(GC.GetTotalMemory(forceFullCollection: true) - beforeSnapshot) / peers;
        if (registry.Current.Count != peers)
        {
            throw new InvalidOperationException($"registry holds {registry.Current.Count} peers, expected {peers}");
        }

    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static MapResponse Parse(byte[] json) => MapFrame.Decode(json, zstd: false);

    /// <summary>The fold's and the snapshot's parts (compact form, registry entries, trie, whole snapshot), each timed alone over the parsed message's peers.</summary>
    private static void Profile(MapResponse parsed, Dictionary<string, double> r)
    {
        var users = parsed.UserProfiles!.ToDictionary(u => u.ID);
        var peers = (double)parsed.Peers!.Count;
        var held = GC.GetTotalMemory(forceFullCollection: true);
        var phase = Phase.Start();
        var compact = new NetmapPeer[parsed.Peers!.Count];
        var strings = new StringPool();
        for (var i = 0; i < compact.Length; i++)
        {
            compact[i] = NetmapPeer.From(parsed.Peers[i], strings);
        }

        r["p_compact_ms"] = phase.Ms;
        r["p_compact_held_per_peer"] = (GC.GetTotalMemory(forceFullCollection: true) - held) / peers;
        held = GC.GetTotalMemory(forceFullCollection: true);
        phase = Phase.Start();
        var entries = new RegistryPeer[compact.Length];
        for (var i = 0; i < compact.Length; i++)
        {
            entries[i] = RegistryPeerBuilder.Build(compact[i], parsed.Domain, users)!;
        }

        r["p_entries_ms"] = phase.Ms;
        r["p_entries_held_per_peer"] = (GC.GetTotalMemory(forceFullCollection: true) - held) / peers;
        held = GC.GetTotalMemory(forceFullCollection: true);
        phase = Phase.Start();
        var trie = new PrefixTrie<RegistryPeer>.Builder();
        foreach (var entry in entries)
        {
            foreach (var prefix in entry.AllowedIps)
            {
                trie.Add(prefix, entry);
            }
        }

        trie.ToTrie();
        r["p_trie_ms"] = phase.Ms;
        held = GC.GetTotalMemory(forceFullCollection: true);
        phase = Phase.Start();
        var snapshot = PeerRegistrySnapshot.Create(1, entries);
        r["p_snapshot_ms"] = phase.Ms;
        r["p_snapshot_held_per_peer"] = (GC.GetTotalMemory(forceFullCollection: true) - held) / peers;
        GC.KeepAlive(compact);
        GC.KeepAlive(snapshot);
        compact = null;
        entries = null;
        snapshot = null;
        held = GC.GetTotalMemory(forceFullCollection: true);
        var folder = new NetmapFolder(TimeProvider.System);
        folder.Apply(parsed);
        r["p_folder_held_per_peer"] = (GC.GetTotalMemory(forceFullCollection: true) - held) / peers;
        GC.KeepAlive(folder);
    }

    /// <summary>
    /// A stand-in dataplane thread wakes every millisecond and looks an address up in the registry's current snapshot
    /// (what the loop's readers do); its worst wake-up delay while full maps and deltas apply on this thread, next to
    /// the same while nothing applies (the machine's own noise), and the GC pause time the application caused.
    /// </summary>
    private static void Stall(byte[] fullJson, byte[] deltaJson, int peers)
    {
        var registry = new PeerRegistry();
        var probe = IPAddress.Parse("100.64.0.1");
        var stop = false;
        long worstTicks = 0;
        long wakes = 0;
        long versionsSeen = 0;
        var ticker = new Thread(() =>
        {
            var last = Stopwatch.GetTimestamp();
            var lastVersion = -1L;
            while (!Volatile.Read(ref stop))
            {
                Thread.Sleep(1);
                var snapshot = registry.Current;
                snapshot.FindByAddress(probe);
                if (snapshot.Version != lastVersion)
                {
                    lastVersion = snapshot.Version;
                    Interlocked.Increment(ref versionsSeen);
                }

                var now = Stopwatch.GetTimestamp();
                var gap = now - last;
                last = now;
                if (gap > Volatile.Read(ref worstTicks))
                {
                    Volatile.Write(ref worstTicks, gap);
                }

                Interlocked.Increment(ref wakes);
            }
        })
        { IsBackground = true, Name = "stand-in dataplane" };
        ticker.Start();

        double Window(Action work, out TimeSpan gcPause, out double wallMs)
        {
            Volatile.Write(ref worstTicks, 0);
            var pause = GC.GetTotalPauseDuration();
            var clock = Stopwatch.StartNew();
            work();
            wallMs = clock.Elapsed.TotalMilliseconds;
            gcPause = GC.GetTotalPauseDuration() - pause;
            return Volatile.Read(ref worstTicks) * 1000.0 / Stopwatch.Frequency;
        }

        var idle = Window(() => Thread.Sleep(1000), out _, out _);
        int[] collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var folder = new NetmapFolder(TimeProvider.System);
        var worstFirst = Window(() => folder.Apply(MapFrame.Decode(fullJson, zstd: false))!.ApplyTo(registry), out var firstPause, out var firstWall);
        var worstFull = 0.0;
        var worstDelta = 0.0;
        var fullPause = TimeSpan.Zero;
        var deltaPause = TimeSpan.Zero;
        const int Maps = 5;
        for (var i = 0; i < Maps; i++)
        {
            worstDelta = Math.Max(worstDelta, Window(() => folder.Apply(MapFrame.Decode(deltaJson, zstd: false))!.ApplyTo(registry), out var pause, out _));
            deltaPause += pause;
            worstFull = Math.Max(worstFull, Window(() => folder.Apply(MapFrame.Decode(fullJson, zstd: false))!.ApplyTo(registry), out pause, out _));
            fullPause += pause;
        }

        var idleAfter = Window(() => Thread.Sleep(1000), out _, out _);
        Volatile.Write(ref stop, true);
        ticker.Join();
        if (registry.Current.Count != peers)
        {
            throw new InvalidOperationException("the stall pass did not apply the map");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stall (wakes every 1 ms; maps parsed+applied on another thread): worst_wake_delay_ms idle={Math.Max(idle, idleAfter):F1} first_full_map={worstFirst:F1} ({firstWall:F0} ms, gc_pause {firstPause.TotalMilliseconds:F1} ms) repeated_full_map={worstFull:F1} (gc_pause {fullPause.TotalMilliseconds / Maps:F1} ms each) delta={worstDelta:F1} (gc_pause {deltaPause.TotalMilliseconds / Maps:F2} ms each) snapshots_seen={Interlocked.Read(ref versionsSeen)} wakes={Interlocked.Read(ref wakes)} gcs gen0={GC.CollectionCount(0) - collections[0]} gen1={GC.CollectionCount(1) - collections[1]} gen2={GC.CollectionCount(2) - collections[2]}"));
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

    /// <summary>Wall time and bytes this thread allocated since <see cref="Start"/>.</summary>
    private readonly struct Phase
    {
        private readonly long _startTicks;
        private readonly long _startAllocated;

        private Phase(long ticks, long allocated)
        {
            _startTicks = ticks;
            _startAllocated = allocated;
        }

        public double Ms => Stopwatch.GetElapsedTime(_startTicks).TotalMilliseconds;

        public double Allocated => GC.GetAllocatedBytesForCurrentThread() - _startAllocated;

        public static Phase Start() => new(Stopwatch.GetTimestamp(), GC.GetAllocatedBytesForCurrentThread());
    }
}
