using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace TsNet.Benchmarks;

/// <summary>
/// <c>TsNet.Benchmarks idle-connections [--count 10000]</c>: two nodes in one process over loopback UDP; node A opens
/// N TCP connections to a listener on node B, each exchanges one byte each way, then all sit idle. Prints managed heap
/// and working set growth per connection (both ends of every connection live in this process, so the figure
/// covers two TCBs plus their stream objects; half of it is one connection end).
/// </summary>
internal static class IdleConnectionsCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = 10_000;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--count")
            {
                count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
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
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var workingSetBefore = Environment.WorkingSet;
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
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        var workingSetAfter = Environment.WorkingSet;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"idle connections={count} opened in {opened.TotalSeconds:0.0} s; managed heap +{(heapAfter - heapBefore) / (double)count:0} B per connection " +
            $"(both ends), working set +{(workingSetAfter - workingSetBefore) / (double)count:0} B per connection (both ends)"));

        foreach (var connection in clientSide.Concat(serverSide))
        {
            await connection.DisposeAsync();
        }

        return 0;
    }

    private static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
