// A consumer of the TsNet NuGet packages: two tailnet nodes in this process, talking WireGuard over
// loopback UDP, one TCP echo through the tailnet, then one HTTP request to Kestrel on a tailnet port
// (TsNet.AspNetCore), and a node started and stopped by the generic host (TsNet.Extensions.Hosting). Exits 0 when
// the echoed bytes and the HTTP answer match and the hosted node ran.
using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TsNet;
using TsNet.AspNetCore;

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var cancellationToken = timeout.Token;

// Optional: against a real peer. One node from a wg-quick file dials HOST:PORT (e.g. a peer's "# Name" or a
// tailnet IP), sends a line and prints what comes back before the peer closes.
if (args is ["--config", var configPath, "--dial", var target])
{
    await using var node = new TailnetServer(TailnetServerOptions.FromWireGuardConfigFile(configPath, warning => Console.Error.WriteLine(warning)));
    await node.StartAsync(cancellationToken);
    await using var connection = await node.ConnectTcpAsync(target, cancellationToken);
    await connection.WriteAsync("hello from PackageConsumer\n"u8.ToArray(), cancellationToken);
    await connection.ShutdownWriteAsync(cancellationToken);
    var answer = new MemoryStream();
    await connection.CopyToAsync(answer, cancellationToken);
    Console.WriteLine($"PackageConsumer: {connection.LocalEndPoint} -> {connection.RemoteEndPoint} answered {answer.Length} bytes");
    return 0;
}

if (args.Length != 0)
{
    Console.Error.WriteLine("usage: PackageConsumer [--config wg0.conf --dial HOST:PORT]");
    return 2;
}

var addressA = IPAddress.Parse("100.64.0.1");
var addressB = IPAddress.Parse("100.64.0.2");

await using var nodeA = new TailnetServer(new TailnetServerOptions
{
    PrivateKey = WireGuardKey.Generate(),
    Addresses = { new IPNetwork(addressA, 32) },
});
await using var nodeB = new TailnetServer(new TailnetServerOptions
{
    PrivateKey = WireGuardKey.Generate(),
    Addresses = { new IPNetwork(addressB, 32) },
});
await nodeA.StartAsync(cancellationToken);
await nodeB.StartAsync(cancellationToken);

// Each node learns the other once both know their (ephemeral) UDP ports.
nodeA.AddOrUpdatePeer(new TailnetPeer
{
    PublicKey = nodeB.PublicKey,
    Endpoint = $"127.0.0.1:{nodeB.ListenPort}",
    AllowedIps = { new IPNetwork(addressB, 32) },
});
nodeB.AddOrUpdatePeer(new TailnetPeer
{
    PublicKey = nodeA.PublicKey,
    Endpoint = $"127.0.0.1:{nodeA.ListenPort}",
    AllowedIps = { new IPNetwork(addressA, 32) },
    Name = "a",
});

const int EchoPort = 7000;
await using var listener = await nodeA.ListenTcpAsync(EchoPort, cancellationToken);
var echo = Task.Run(async () =>
{
    await using var connection = await listener.AcceptAsync(cancellationToken)
        ?? throw new InvalidOperationException("the listener closed before a connection arrived");
    await connection.CopyToAsync(connection, cancellationToken);   // echo until the client's FIN
    await connection.ShutdownWriteAsync(cancellationToken);
}, cancellationToken);

var message = "hello over the tailnet"u8.ToArray();
await using var client = await nodeB.ConnectTcpAsync($"a:{EchoPort}", cancellationToken);
await client.WriteAsync(message, cancellationToken);
await client.ShutdownWriteAsync(cancellationToken);
var reply = new MemoryStream();
await client.CopyToAsync(reply, cancellationToken);
await echo;

if (!reply.ToArray().AsSpan().SequenceEqual(message))
{
    Console.Error.WriteLine($"PackageConsumer: echo mismatch, sent {message.Length} bytes, got {reply.Length}");
    return 1;
}

// Kestrel on node A's tailnet port 80 (no host socket), called from node B's HttpClient by peer name.
var builder = WebApplication.CreateBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseTailnet(nodeA, 80);
await using var app = builder.Build();
app.MapGet("/", () => "hello from Kestrel on the tailnet");
await app.StartAsync(cancellationToken);
using var http = nodeB.CreateHttpClient();
var greeting = await http.GetStringAsync(new Uri("http://a/"), cancellationToken);
await app.StopAsync(cancellationToken);
if (greeting != "hello from Kestrel on the tailnet")
{
    Console.Error.WriteLine($"PackageConsumer: unexpected HTTP answer \"{greeting}\"");
    return 1;
}

Console.WriteLine($"PackageConsumer: GET http://a/ -> {greeting}");

// The generic host: a node whose options are bound from configuration, started with the host, disposed at its stop.
var hostBuilder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
hostBuilder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Tailnet:PrivateKey"] = WireGuardKey.Generate().ToString(),
    ["Tailnet:Addresses"] = "100.64.0.3/32",
});
hostBuilder.Services.AddTailnet(hostBuilder.Configuration.GetSection("Tailnet"));
using (var host = hostBuilder.Build())
{
    await host.StartAsync(cancellationToken);
    var hosted = host.Services.GetRequiredService<TailnetServer>();
    Console.WriteLine($"PackageConsumer: hosted node {string.Join(",", hosted.Addresses)} {hosted.State}");
    await host.StopAsync(cancellationToken);
    if (hosted.State != TailnetState.Stopped)
    {
        Console.Error.WriteLine($"PackageConsumer: the host's stop left the node {hosted.State}");
        return 1;
    }
}

var version = typeof(TailnetServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
Console.WriteLine($"PackageConsumer: echoed {message.Length} bytes {client.LocalEndPoint} -> {client.RemoteEndPoint} with TsNet {version}");
return 0;
