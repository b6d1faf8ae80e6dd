using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace TsNet.Benchmarks;

/// <summary>
/// <c>TsNet.Benchmarks idle-connections [--count 10000] [--rounds 2] [--hold-seconds 0]</c>: two nodes in one process over loopback
/// UDP; node A opens N TCP connections to a listener on node B, each exchanges one byte each way, then all sit idle.
/// Prints managed heap and working set growth per connection (both ends of every connection live in this process, so
/// the figure covers two TCBs plus their stream objects; half of it is one connection end). Then holds them
/// <c>--hold-seconds</c> (time for <c>dotnet-gcdump collect</c>; again after closing), closes all gracefully, waits until both TCP tables
/// are empty (TIME-WAIT included) and measures again; repeated <c>--rounds</c> times, the memory after the last close
/// must match the first (a per-connection leak grows with every round); exits 1 if not.
/// </summary>
internal static class IdleConnectionsCommand
{
    /// <summary>TIME-WAIT (60 s by default) plus margin: how long closed connections may take to leave the tables.</summary>
    private static readonly TimeSpan TimeWaitBound = TimeSpan.FromSeconds(120);

    /// <summary>After the last round the GC's live bytes (less idle packet buffers) may exceed those after the first by this.</summary>
    private const long ReturnSlackBytes = 2L * 1024 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = 10_000;
        var holdSeconds = 0;
        var rounds = 2;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--count")
            {
                count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--rounds")
            {
                rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
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
        Collect();
        var start = Soak.ResourceSample.Take("start", TimeSpan.Zero);
        var startPools = PoolIdleBytes(a, b);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"start    {start}"));
        var stopwatch = Stopwatch.StartNew();
        var allClosed = true;
        long firstClosedLive = 0;
        long lastClosedLive = 0;
        for (var round = 1; round <= rounds; round++)
        {
            var held = await OpenAllAsync(a, listener, count, start, stopwatch);
            if (holdSeconds > 0)
            {
                // Time to take a heap dump of the held state: dotnet-gcdump collect -p <pid>.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"holding for {holdSeconds} s, pid {Environment.ProcessId}"));
                await Task.Delay(TimeSpan.FromSeconds(holdSeconds));
            }

            // Close gracefully (FIN both ways): the connecting side closed first, so its ends wait out TIME-WAIT.
            var closing = Stopwatch.StartNew();
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }

            held.Clear();
            var remaining = await WaitForEmptyTablesAsync(a, b, TimeWaitBound);
            allClosed &= remaining == 0;
            Collect();
            var closed = Soak.ResourceSample.Take("closed", stopwatch.Elapsed);
            // The packet pools keep up to 4096 idle 2 KiB buffers per node by design (bounded); a burst of 10 000
            // handshakes fills them, so they are reported and taken out of the comparison.
            var pools = PoolIdleBytes(a, b);
            lastClosedLive = closed.GcLive - pools;
            firstClosedLive = round == 1 ? lastClosedLive : firstClosedLive;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"closed#{round} {closed} (tables empty after {closing.Elapsed.TotalSeconds:0} s; {remaining} connections left; idle packet buffers {Soak.ResourceSample.Mib(pools)})"));
            if (holdSeconds > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"closed; holding for {holdSeconds} s, pid {Environment.ProcessId}"));
                await Task.Delay(TimeSpan.FromSeconds(holdSeconds));
            }
        }

        // Round 1 leaves high-water marks (the connection table's and timer queue's capacity, the pools); a
        // per-connection leak would grow with every round instead.
        var steady = allClosed && (rounds < 2 || lastClosedLive <= firstClosedLive + ReturnSlackBytes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verdict {(steady ? "PASS" : "FAIL")}: GC live bytes less idle packet buffers: start {Soak.ResourceSample.Mib(start.GcLive - startPools)}, " +
            $"after round 1 {Soak.ResourceSample.Mib(firstClosedLive)}, after round {rounds} {Soak.ResourceSample.Mib(lastClosedLive)} " +
            $"(tolerance: the last round within {Soak.ResourceSample.Mib(ReturnSlackBytes)} of the first, every table empty); " +
            $"residual after round 1 {(firstClosedLive - (start.GcLive - startPools)) / (double)count:0} B per connection (capacity high-water marks)"));
        return steady ? 0 : 1;
    }

    /// <summary>
    /// Opens <paramref name="count"/> connections (one byte each way), lets them go idle and prints the held figures;
    /// returns both ends of every connection.
    /// </summary>
    private static async Task<List<TailnetConnection>> OpenAllAsync(TailnetServer a, TailnetListener listener, int count, Soak.ResourceSample start, Stopwatch stopwatch)
    {
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

        var clientSide = new List<TailnetConnection>(count);
        var opening = Stopwatch.StartNew();
        var reply = new byte[1];
        for (var i = 0; i < count; i++)
        {
            var connection = await a.ConnectTcpAsync("100.64.0.2:7000");
            await connection.WriteAsync(new byte[] { 1 });
            await connection.ReadExactlyAsync(reply);
            clientSide.Add(connection);
        }

        await accepting;
        var opened = opening.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1)); // delayed ACKs out, buffers drained
        Collect();
        var held = Soak.ResourceSample.Take("held", stopwatch.Elapsed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"idle connections={count} opened in {opened.TotalSeconds:0.0} s; managed heap +{(held.GcLive - start.GcLive) / (double)count:0} B per connection " +
            $"(both ends), working set +{(held.WorkingSet - start.WorkingSet) / (double)count:0} B per connection (both ends)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held     {held}"));
        clientSide.AddRange(serverSide);
        return clientSide;
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

    private static long PoolIdleBytes(TailnetServer a, TailnetServer b) =>
        ((long)a.BufferPool.IdleCount * a.BufferPool.BufferSize) + ((long)b.BufferPool.IdleCount * b.BufferPool.BufferSize);

    private static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
