using System.Diagnostics;
using System.Globalization;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// <c>TsNet.Benchmarks soak [--minutes 30] [--streams 64] [--loss 0.01] [--reorder 0.01] [--seed S]
/// [--report-minutes 5] [--churn-seconds 60] [--churn-down-seconds 5] [--max-size BYTES] [--udp-rate N]</c>: three
/// nodes in this process, static WireGuard peers over loopback UDP with seeded loss and reordering on every node's
/// outgoing datagrams, carrying verified TCP streams and UDP echoes while one peer pair is churned (removed and
/// re-added). Prints resources at start, after the warm-up, every report interval and at the end, then a verdict
/// (<see cref="SoakVerdict"/>); exits 0 on PASS, 1 on FAIL. Bounded: new streams stop at the deadline, streams still
/// running are cut after <see cref="SoakOptions.Grace"/>, and a watchdog ends the process if shutting down hangs.
/// </summary>
internal static class SoakCommand
{
    /// <summary>Beyond deadline + grace: how long shutting down may take before the watchdog exits the process.</summary>
    private static readonly TimeSpan ShutdownBound = TimeSpan.FromMinutes(3);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = SoakOptions.Parse(args);
        // Figures print the same everywhere (this flow's interpolated lines use the current culture).
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        using var watchdog = new Timer(
            _ =>
            {
                Console.Error.WriteLine("[soak] watchdog: still running past deadline + grace + shutdown bound; exiting");
                Environment.Exit(3);
            },
            null,
            options.Duration + options.Grace + ShutdownBound,
            Timeout.InfiniteTimeSpan);
        Print($"[soak] minutes={options.Duration.TotalMinutes:0.##} streams={options.Streams} loss={options.Loss} reorder={options.Reorder} seed={options.Seed} " +
            $"churn every {options.ChurnInterval.TotalSeconds:0} s for {options.ChurnDown.TotalSeconds:0} s, stream sizes {options.MinStreamBytes}..{options.MaxStreamBytes} B log-uniform, udp {options.UdpRate}/s per pair; " +
            $"cores={Environment.ProcessorCount} load={LoadAverage()}");

        var clock = Stopwatch.StartNew();
        var beforeNodes = Report(ResourceSample.Take("before-nodes", clock.Elapsed), null, null, null);
        var run = await RunMeshAsync(options, clock);
        // Taken here, not inside RunMeshAsync: its locals (nodes, streams) must be unreachable by now.
        var afterDispose = Report(ResourceSample.Take("after-dispose", clock.Elapsed), null, null, null);
        return SoakVerdict.Judge(options, run.Streams, run.Udp, beforeNodes, run.WarmUp, run.End, afterDispose, Console.Out) ? 0 : 1;
    }

    /// <summary>Starts the mesh, runs the traffic to the deadline (sampling on the way), drains and disposes the nodes.</summary>
    private static async Task<MeshRun> RunMeshAsync(SoakOptions options, Stopwatch clock)
    {
        using var hardStop = new CancellationTokenSource();
        using var stopStarting = new CancellationTokenSource();
        var impairment = new LinkImpairment { LossRate = options.Loss, ReorderRate = options.Reorder };
        await using var mesh = await SoakMesh.StartAsync(impairment, options.Seed, CancellationToken.None);
        var churn = new PeerChurn(mesh.Nodes[1], mesh.Nodes[2], options);
        var tcp = new TcpStreamTraffic(mesh, churn, options);
        var udp = new UdpEchoTraffic(mesh, churn, options);
        await tcp.StartListenersAsync(hardStop.Token);
        await udp.StartAsync(hardStop.Token);
        Report(ResourceSample.Take("start", clock.Elapsed), tcp, udp, mesh);

        var trafficStart = clock.Elapsed;
        stopStarting.CancelAfter(options.Duration);
        hardStop.CancelAfter(options.Duration + options.Grace);
        var traffic = Task.WhenAll(
            tcp.RunClientsAsync(stopStarting.Token, hardStop.Token),
            udp.RunAsync(stopStarting.Token, hardStop.Token),
            churn.RunAsync(stopStarting.Token));

        var warmUp = await SampleUntilDeadlineAsync(options, clock, trafficStart, tcp, udp, mesh, churn);
        var end = Report(ResourceSample.Take("end", clock.Elapsed), tcp, udp, mesh, churn);

        // Bounded: streams past the grace are cut by hardStop; the extra minute covers their aborts.
        await traffic.WaitAsync(options.Grace + TimeSpan.FromMinutes(1));
        await tcp.StopListenersAsync();
        var handlersDone = Stopwatch.StartNew();
        while (tcp.ActiveHandlers > 0 && handlersDone.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        Report(ResourceSample.Take("drained", clock.Elapsed), tcp, udp, mesh, churn);
        PrintNodeCounters(mesh, churn);
        return new MeshRun(warmUp, end, tcp.Outcomes, udp.Totals);
    }

    /// <summary>
    /// Prints a resource line after the warm-up and at every report interval until the deadline; returns the
    /// warm-up sample (the baseline the end is judged against).
    /// </summary>
    private static async Task<ResourceSample> SampleUntilDeadlineAsync(SoakOptions options, Stopwatch clock, TimeSpan trafficStart, TcpStreamTraffic tcp, UdpEchoTraffic udp, SoakMesh mesh, PeerChurn churn)
    {
        var due = new SortedSet<TimeSpan> { options.WarmUp };
        for (var at = options.ReportInterval; at < options.Duration; at += options.ReportInterval)
        {
            due.Add(at);
        }

        ResourceSample? warmUp = null;
        foreach (var at in due.Where(at => at < options.Duration))
        {
            var wait = trafficStart + at - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var sample = Report(ResourceSample.Take(at == options.WarmUp ? "warm-up" : "report", clock.Elapsed), tcp, udp, mesh, churn);
            warmUp ??= sample;
        }

        var remaining = trafficStart + options.Duration - clock.Elapsed;
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }

        return warmUp ?? throw new InvalidOperationException("no warm-up sample");
    }

    private static ResourceSample Report(ResourceSample sample, TcpStreamTraffic? tcp, UdpEchoTraffic? udp, SoakMesh? mesh, PeerChurn? churn = null)
    {
        var line = $"[soak] t={sample.Elapsed:hh\\:mm\\:ss} {sample.Label,-13} {sample}";
        if (tcp is not null)
        {
            var s = tcp.Outcomes;
            var inFlight = s.Started - s.Ok - s.FailedUnexpected - s.FailedExpected - s.Cut;
            line += $" | streams ok={s.Ok} failed={s.FailedUnexpected} churn-failed={s.FailedExpected} cut={s.Cut} in-flight={inFlight} verified={s.BytesVerified / 1073741824.0:0.000} GiB";
        }

        if (udp is not null)
        {
            var u = udp.Totals;
            line += $" | udp sent={u.Sent} echoed={u.Echoed} lost={u.Lost} churn-lost={u.LostChurn}";
        }

        if (mesh is not null)
        {
            line += $" | injected drop={mesh.Nodes.Sum(n => n.Dropped)} reorder={mesh.Nodes.Sum(n => n.Reordered)} of {mesh.Nodes.Sum(n => n.Dropped + n.Reordered + n.Passed)}";
        }

        if (churn is not null)
        {
            line += $" | churn rounds={churn.Rounds}";
        }

        Print(line + " | load " + LoadAverage());
        return sample;
    }

    private static void PrintNodeCounters(SoakMesh mesh, PeerChurn churn)
    {
        foreach (var node in mesh.Nodes)
        {
            var drops = node.Server.GetStatus().Drops;
            var text = drops.Count == 0 ? "none" : string.Join(", ", drops.OrderByDescending(d => d.Value).Select(d => $"{d.Key}={d.Value}"));
            Print($"[soak] node {node.Name} drops: {text}");
        }

        if (churn.Errors > 0)
        {
            Print($"[soak] churn errors={churn.Errors}, last: {churn.LastError}");
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static void Print(string line) => Console.WriteLine(line);

    private sealed record MeshRun(ResourceSample WarmUp, ResourceSample End, StreamOutcomes Streams, UdpEchoCounts Udp);
}
