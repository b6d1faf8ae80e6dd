using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace TsNet.Benchmarks;

/// <summary>
/// <c>TsNet.Benchmarks idle-connections [--count 10000] [--hold-seconds 0]</c>: two nodes in one process over loopback
/// UDP; node A opens N TCP connections to a listener on node B, each exchanges one byte each way, then all sit idle.
/// Prints managed heap and working set growth per connection (both ends of every connection live in this process, so
/// the figure covers two TCBs plus their stream objects; half of it is one connection end). Then holds them
/// <c>--hold-seconds</c> (time for <c>dotnet-gcdump collect</c>), closes all gracefully, waits until both TCP tables
/// are empty (TIME-WAIT included) and checks that the GC's live bytes are back at the starting level; exits 1 if not.
/// </summary>
internal static class IdleConnectionsCommand
{
    /// <summary>TIME-WAIT (60 s by default) plus margin: how long closed connections may take to leave the tables.</summary>
    private static readonly TimeSpan TimeWaitBound = TimeSpan.FromSeconds(120);

    /// <summary>After closing, the GC's live bytes may exceed the start by the larger of this…</summary>
    private const long ReturnSlackBytes = 2L * 1024 * 1024;

    /// <summary>…and this fraction of what the held connections added.</summary>
    private const double ReturnSlackFraction = 0.05;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = 10_000;
        var holdSeconds = 0;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--count")
            {
                count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--hold-seconds")
            {
                holdSeconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        await using var a = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") } });
        await using var b = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.2/32") } });
        await a.StartAsync();
        await b.StartAsync();
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = b.PublicKey, Endpoint = "127.0.0.1:" + b.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.2/32") } });
        b.AddOrUpdatePeer(new TailnetPeer { PublicKey = a.PublicKey, Endpoint = "127.0.0.1:" + a.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.1/32") } });
        for (var i = 0; ; i++)
        {
            try
            {
                await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(1));
                break;
            }
            catch (TimeoutException) when (i < 10)
            {
            }
        }

        await using var listener = await b.ListenTcpAsync(7000);
        var serverSide = new List<TailnetConnection>(count);
        var accepting = Task.Run(async () =>
        {
            var one = new byte[1];
            while (serverSide.Count < count && await listener.AcceptAsync() is { } connection)
            {
                await connection.ReadExactlyAsync(one);
                await connection.WriteAsync(one);
                serverSide.Add(connection);
            }
        });

        Collect();
        var start = Soak.ResourceSample.Take("start", TimeSpan.Zero);
        var clientSide = new List<TailnetConnection>(count);
        var stopwatch = Stopwatch.StartNew();
        var reply = new byte[1];
        for (var i = 0; i < count; i++)
        {
            var connection = await a.ConnectTcpAsync("100.64.0.2:7000");
            await connection.WriteAsync(new byte[] { 1 });
            await connection.ReadExactlyAsync(reply);
            clientSide.Add(connection);
        }

        await accepting;
        var opened = stopwatch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1)); // delayed ACKs out, buffers drained
        Collect();
        var held = Soak.ResourceSample.Take("held", stopwatch.Elapsed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"idle connections={count} opened in {opened.TotalSeconds:0.0} s; managed heap +{(held.GcLive - start.GcLive) / (double)count:0} B per connection " +
            $"(both ends), working set +{(held.WorkingSet - start.WorkingSet) / (double)count:0} B per connection (both ends)"));
        if (holdSeconds > 0)
        {
            // Time to take a heap dump of the held state: dotnet-gcdump collect -p <pid>.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"holding for {holdSeconds} s, pid {Environment.ProcessId}"));
            await Task.Delay(TimeSpan.FromSeconds(holdSeconds));
        }

        // Close gracefully (FIN both ways): the connecting side closed first, so its ends wait out TIME-WAIT.
        var closing = Stopwatch.StartNew();
        foreach (var connection in clientSide.Concat(serverSide))
        {
            await connection.DisposeAsync();
        }

        clientSide.Clear();
        serverSide.Clear();
        var remaining = await WaitForEmptyTablesAsync(a, b, TimeWaitBound);
        Collect();
        var closed = Soak.ResourceSample.Take("closed", stopwatch.Elapsed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"start  {start}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held   {held}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"closed {closed} (tables empty after {closing.Elapsed.TotalSeconds:0} s; {remaining} connections left)"));
        var allowed = start.GcLive + Math.Max(ReturnSlackBytes, (long)((held.GcLive - start.GcLive) * ReturnSlackFraction));
        var returned = remaining == 0 && closed.GcLive <= allowed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verdict {(returned ? "PASS" : "FAIL")}: GC live bytes after close {Soak.ResourceSample.Mib(closed.GcLive)} vs start {Soak.ResourceSample.Mib(start.GcLive)} " +
            $"(tolerance: the larger of {Soak.ResourceSample.Mib(ReturnSlackBytes)} and {ReturnSlackFraction:P0} of the held growth {Soak.ResourceSample.Mib(held.GcLive - start.GcLive)}); " +
            $"working set {Soak.ResourceSample.Mib(start.WorkingSet)} → {Soak.ResourceSample.Mib(held.WorkingSet)} → {Soak.ResourceSample.Mib(closed.WorkingSet)} (informational: the GC keeps some freed memory committed)"));
        return returned ? 0 : 1;
    }

    /// <summary>Polls both nodes' TCP tables until they are empty or <paramref name="bound"/> passes; returns what is left.</summary>
    private static async Task<int> WaitForEmptyTablesAsync(TailnetServer a, TailnetServer b, TimeSpan bound)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var left = await a.Netstack.TcpConnectionCountAsync() + await b.Netstack.TcpConnectionCountAsync();
            if (left == 0 || waited.Elapsed > bound)
            {
                return left;
            }

            await Task.Delay(500);
        }
    }

    private static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
