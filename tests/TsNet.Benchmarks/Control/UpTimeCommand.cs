using System.Diagnostics;
using System.Globalization;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;

namespace TsNet.Benchmarks.Control;

/// <summary>
/// <c>TsNet.Benchmarks up-time [--rounds 5] [--derp] [--verbose]</c>: time from <see cref="TailnetServer.UpAsync"/> to Running
/// against Tailscale's test control server (the interop harness starts <c>testcontrol-server</c> v1.36.2 on loopback),
/// next to <c>tailscale up</c> of a userspace <c>tailscaled</c> against the same server in the same run. Per round:
/// a TsNet node with a fresh state directory (register with an auth key + first netmap), the same node restarted from
/// its state directory without an auth key, and a fresh <c>tailscaled</c> (its start is not timed; the figure is the
/// <c>tailscale up --authkey</c> command, CLI process start included). Round 0 warms up (JIT) and is not reported.
/// Output: one <c>key=value</c> line per round and a summary line of medians.
/// Without <c>--derp</c> the server's DERP map names no running DERP or STUN server: tailscaled then enters Running only
/// after its netcheck gave up (about 2 s of its <c>up</c>); <c>--derp</c> starts <c>derper</c> with STUN so that netcheck
/// completes. TsNet does not wait for DERP (not built yet).
/// </summary>
internal static class UpTimeCommand
{
    private const string AuthKey = "tskey-up-time";

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 5;
        var verbose = false;
        var withDerp = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds" && i + 1 < args.Length)
            {
                rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--derp")
            {
                withDerp = true;
            }
            else if (args[i] == "--verbose")
            {
                verbose = true;
            }
        }

        var log = verbose ? TestLog.Console : new TestLog(_ => { });
        TailscaleBinaries.EnsureAvailable();
        await using var workDir = await TailscaleWorkDir.CreateAsync(log);
        await using var derp = withDerp ? await DerpServer.StartAsync(workDir) : null;
        var serverOptions = derp is null
            ? new TestControlServerOptions { StunPort = -1, AuthKeys = [AuthKey] }
            : new TestControlServerOptions { DerpPort = derp.TlsPort, StunPort = derp.StunPort, AuthKeys = [AuthKey] };
        await using var control = await TestControlServer.StartAsync(workDir, serverOptions);
        Console.WriteLine($"control={control.Url} rounds={rounds} derp={(derp is null ? "none" : "derper+stun")}");

        var fresh = new List<double>();
        var restart = new List<double>();
        var tailscaled = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            var stateDirectory = workDir.Subdirectory($"tsnet-{round}");
            var freshMs = await TimeUpAsync(control.Url, $"bench{round}", AuthKey, stateDirectory);
            var restartMs = await TimeUpAsync(control.Url, $"bench{round}", authKey: null, stateDirectory);
            var tailscaledMs = await TimeTailscaleUpAsync(workDir, control.Url, round);
            if (round == 0)
            {
                continue;
            }

            fresh.Add(freshMs);
            restart.Add(restartMs);
            tailscaled.Add(tailscaledMs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round={round} tsnet_fresh_ms={freshMs:F1} tsnet_restart_ms={restartMs:F1} tailscale_up_ms={tailscaledMs:F1}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median tsnet_fresh_ms={Median(fresh):F1} tsnet_restart_ms={Median(restart):F1} tailscale_up_ms={Median(tailscaled):F1}"));
        workDir.Complete();
        return 0;
    }

    /// <summary>A new <see cref="TailnetServer"/> on <paramref name="stateDirectory"/>: milliseconds from UpAsync to Running.</summary>
    private static async Task<double> TimeUpAsync(string controlUrl, string hostname, string? authKey, string stateDirectory)
    {
        var saved = Environment.GetEnvironmentVariable("TS_AUTHKEY");
        Environment.SetEnvironmentVariable("TS_AUTHKEY", null);
        try
        {
            await using var node = new TailnetServer(new TailnetServerOptions
            {
                ControlUrl = new Uri(controlUrl),
                AuthKey = authKey,
                Hostname = hostname,
                StateDirectory = stateDirectory,
                ListenPort = TailscalePorts.FreeUdp(),
            });
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var clock = Stopwatch.StartNew();
            await node.UpAsync(bound.Token);
            return clock.Elapsed.TotalMilliseconds;
        }
        finally
        {
            Environment.SetEnvironmentVariable("TS_AUTHKEY", saved);
        }
    }

    /// <summary>A fresh userspace tailscaled (start not timed): milliseconds of <c>tailscale up --authkey</c>.</summary>
    private static async Task<double> TimeTailscaleUpAsync(TailscaleWorkDir workDir, string controlUrl, int round)
    {
        await using var daemon = await Tailscaled.StartAsync(workDir, new TailscaledOptions { Name = $"ts{round}" });
        var clock = Stopwatch.StartNew();
        await daemon.UpAsync(controlUrl, AuthKey, $"tsd{round}");
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
