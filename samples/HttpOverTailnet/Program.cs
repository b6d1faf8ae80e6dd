// HttpOverTailnet: Kestrel serves a minimal API on a tailnet node, and HttpClient on a second node calls it.
// Both nodes run in this process and talk WireGuard to each other over loopback UDP; the web app opens no host
// TCP port. The whole run is bounded: it exits 1 instead of hanging if the tailnet does not come up.
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TsNet;
using TsNet.AspNetCore;

const string Usage = """
    usage: HttpOverTailnet                              two nodes in this process: serve, fetch, print, exit
           HttpOverTailnet --config wg0.conf [--port 80]  serve the app on a node from a wg-quick file until Ctrl-C
    """;

if (args.Length > 0)
{
    if (args is not ["--config", var configPath, ..] || args.Length is not (2 or 4) || (args.Length == 4 && args[2] != "--port")
        || !int.TryParse(args.Length == 4 ? args[3] : "80", out var port) || port is < 1 or > 65535)
    {
        Console.Error.Write(Usage);
        return 2;
    }

    return await ServeFromConfigAsync(configPath, port);
}

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

// Cancellation bounds every step; this watchdog bounds the rest (disposal included) so the sample never hangs.
using var watchdog = new Timer(
    _ =>
    {
        Console.Error.WriteLine("error: still running after 90 s");
        Environment.Exit(1);
    },
    null,
    TimeSpan.FromSeconds(90),
    Timeout.InfiniteTimeSpan);
try
{
    await RunAsync(timeout.Token);
    return 0;
}
catch (OperationCanceledException)
{
    // Nothing here cancels except the run's deadline and HttpClient's timeout.
    Console.Error.WriteLine("error: timed out");
    return 1;
}
catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

// One node from a wg-quick file (its peers are real WireGuard peers, e.g. wg-quick or wireguard-go with this node as
// a [Peer]); the app answers them at http://<the node's address>:<port>/.
static async Task<int> ServeFromConfigAsync(string configPath, int port)
{
    TailnetServerOptions options;
    try
    {
        options = TailnetServerOptions.FromWireGuardConfigFile(configPath, warning => Console.Error.WriteLine($"warning: {warning}"));
    }
    catch (Exception ex) when (ex is WireGuardConfigException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        return 2;
    }

    await using var node = new TailnetServer(options);
    var builder = WebApplication.CreateBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.WebHost.UseTailnet(node, port);
    await using var app = builder.Build();
    MapEndpoints(app);
    await app.StartAsync();
    Console.WriteLine($"serving {string.Join(", ", app.Urls)} on the tailnet (node {node.PublicKey}, UDP port {node.ListenPort}); Ctrl-C stops");
    await app.WaitForShutdownAsync();
    return 0;
}

static void MapEndpoints(WebApplication app)
{
    app.MapGet("/", (HttpContext context) =>
        $"Hello {context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}, this is Kestrel on {context.Connection.LocalIpAddress}:{context.Connection.LocalPort} over the tailnet.");
    app.MapPost("/echo", async (HttpRequest request) =>
    {
        using var reader = new StreamReader(request.Body);
        return $"you sent {(await reader.ReadToEndAsync(request.HttpContext.RequestAborted)).Length} characters";
    });
}

static async Task RunAsync(CancellationToken cancellationToken)
{
    // Two nodes with fresh keys and ephemeral UDP ports on this machine.
    await using var server = new TailnetServer(new TailnetServerOptions
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { IPNetwork.Parse("100.64.0.1/32") },
    });
    await using var client = new TailnetServer(new TailnetServerOptions
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { IPNetwork.Parse("100.64.0.2/32") },
    });
    await server.StartAsync(cancellationToken);
    await client.StartAsync(cancellationToken);

    // Each node knows the other as a peer at its loopback UDP port; the client calls the server "web".
    server.AddOrUpdatePeer(new TailnetPeer
    {
        PublicKey = client.PublicKey,
        Endpoint = $"127.0.0.1:{client.ListenPort}",
        AllowedIps = { IPNetwork.Parse("100.64.0.2/32") },
    });
    client.AddOrUpdatePeer(new TailnetPeer
    {
        PublicKey = server.PublicKey,
        Endpoint = $"127.0.0.1:{server.ListenPort}",
        AllowedIps = { IPNetwork.Parse("100.64.0.1/32") },
        Name = "web",
    });
    Console.WriteLine($"node web    100.64.0.1  udp 127.0.0.1:{server.ListenPort}  {server.PublicKey}");
    Console.WriteLine($"node client 100.64.0.2  udp 127.0.0.1:{client.ListenPort}  {client.PublicKey}");

    // The web app: Kestrel listens on port 80 of the "web" node only.
    var builder = WebApplication.CreateBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.WebHost.UseTailnet(server, 80);
    await using var app = builder.Build();
    MapEndpoints(app);
    await app.StartAsync(cancellationToken);
    Console.WriteLine($"kestrel     {string.Join(", ", app.Urls)} (tailnet only)");

    // The client node's HttpClient dials through the tailnet; "web" resolves from the peer list, not DNS.
    using var http = client.CreateHttpClient();
    http.Timeout = TimeSpan.FromSeconds(30);
    var greeting = await http.GetStringAsync(new Uri("http://web/"), cancellationToken);
    Console.WriteLine($"GET  http://web/      -> {greeting}");
    using (var response = await http.PostAsync(new Uri("http://web/echo"), new StringContent(new string('x', 100_000)), cancellationToken))
    {
        response.EnsureSuccessStatusCode();
        Console.WriteLine($"POST http://web/echo  -> {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    var peer = client.GetStatus().Peers.Single();
    Console.WriteLine($"client peer {peer.Name}: session {peer.SessionState}, tx {peer.TxBytes} B, rx {peer.RxBytes} B");

    await app.StopAsync(cancellationToken);
    Console.WriteLine("done");
}
