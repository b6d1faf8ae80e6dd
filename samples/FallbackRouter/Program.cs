// FallbackRouter: an app connector in a few lines. The node claims every TCP flow to port 80, whatever address it was
// sent to, and answers with a page naming that address.
//   dotnet run --project samples/FallbackRouter                        two nodes in this process (no peer needed)
//   dotnet run --project samples/FallbackRouter -- --config wg0.conf   serve the peers of a wg-quick file until Ctrl-C
//                                                                      (their AllowedIPs for this node decide which
//                                                                      addresses they send here)
using System.Net;
using FallbackRouter;
using TsNet;

if (args is ["--config", var configPath])
{
    await using var node = new TailnetServer(TailnetServerOptions.FromWireGuardConfigFile(configPath, warning => Console.Error.WriteLine(warning)));
    using var connector = AppConnector.Register(node);
    await node.StartAsync();
    Console.WriteLine($"serving port 80 on any routed address as {node.PublicKey} (UDP {node.ListenPort}); Ctrl-C stops");
    var stop = new TaskCompletionSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
    await stop.Task;
    return 0;
}

if (args.Length != 0)
{
    Console.Error.WriteLine("usage: FallbackRouter [--config wg0.conf]");
    return 2;
}

using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
await using var router = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.2/32") } });
await using var client = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") } });
using (AppConnector.Register(router))
{
    await router.StartAsync(deadline.Token);
    await client.StartAsync(deadline.Token);
    // The client sends a whole range (198.18.0.0/15: reserved for tests, routed nowhere real) to the router.
    client.AddOrUpdatePeer(new TailnetPeer
    {
        PublicKey = router.PublicKey,
        Endpoint = $"127.0.0.1:{router.ListenPort}",
        AllowedIps = { IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("198.18.0.0/15") },
    });
    router.AddOrUpdatePeer(new TailnetPeer { PublicKey = client.PublicKey, Endpoint = $"127.0.0.1:{client.ListenPort}", AllowedIps = { IPNetwork.Parse("100.64.0.1/32") } });

    using var http = client.CreateHttpClient();
    foreach (var url in new[] { "http://198.18.0.42/", "http://198.19.1.2/", "http://100.64.0.2/" })
    {
        try
        {
            Console.WriteLine($"GET {url} -> {(await http.GetStringAsync(new Uri(url), deadline.Token)).Trim()}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            Console.Error.WriteLine($"GET {url} failed: {ex.Message}");
            return 1;
        }
    }
}

return 0;
