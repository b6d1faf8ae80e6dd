using System.Net;
using System.Text;
using TsNet;

namespace HelloTailnet;

/// <summary>Two nodes in one process, WireGuard between them over loopback UDP: a ping, then a TCP exchange.</summary>
internal static class InProcessDemo
{
    private const int Port = 8080;

    public static async Task RunAsync(CancellationToken cancellationToken)
    {
        var addressA = IPAddress.Parse("100.64.0.1");
        var addressB = IPAddress.Parse("100.64.0.2");
        await using var a = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { new IPNetwork(addressA, 32) },
        });
        await using var b = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { new IPNetwork(addressB, 32) },
        });
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        Console.WriteLine($"node A: {addressA} on UDP {a.ListenPort}, public key {a.PublicKey}");
        Console.WriteLine($"node B: {addressB} on UDP {b.ListenPort}, public key {b.PublicKey}");

        // The ports are known only after start, so the nodes learn each other as peers now.
        a.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = b.PublicKey,
            Endpoint = $"127.0.0.1:{b.ListenPort}",
            AllowedIps = { new IPNetwork(addressB, 32) },
            Name = "bravo",
        });
        b.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = a.PublicKey,
            Endpoint = $"127.0.0.1:{a.ListenPort}",
            AllowedIps = { new IPNetwork(addressA, 32) },
            Name = "alpha",
        });

        // The first ping also carries the WireGuard handshake.
        var rtt = await b.PingAsync(addressA, TimeSpan.FromSeconds(5), cancellationToken);
        Console.WriteLine($"ping B -> A ({addressA}): {rtt.TotalMilliseconds:0.0} ms");

        await using var listener = await a.ListenTcpAsync(Port, cancellationToken);
        Console.WriteLine($"A listens on {listener.LocalEndPoint}");
        var server = Task.Run(() => ServeOneAsync(listener, cancellationToken), cancellationToken);

        await using (var connection = await b.ConnectTcpAsync($"alpha:{Port}", cancellationToken))
        {
            Console.WriteLine($"B connected {connection.LocalEndPoint} -> {connection.RemoteEndPoint}");
            await connection.WriteAsync(Encoding.UTF8.GetBytes("hello from B"), cancellationToken);
            await connection.ShutdownWriteAsync(cancellationToken);
            using var reader = new StreamReader(connection, Encoding.UTF8);
            Console.WriteLine($"B received \"{await reader.ReadToEndAsync(cancellationToken)}\"");
        }

        await server;
        foreach (var peer in b.GetStatus().Peers)
        {
            Console.WriteLine($"B's peer {peer.Name}: {peer.SessionState}, endpoint {peer.Endpoint}, rx {peer.RxBytes} B, tx {peer.TxBytes} B");
        }
    }

    /// <summary>Accepts one connection and answers what it read, upper-cased, then closes.</summary>
    private static async Task ServeOneAsync(TailnetListener listener, CancellationToken cancellationToken)
    {
        await using var connection = await listener.AcceptAsync(cancellationToken)
            ?? throw new InvalidOperationException("the listener closed before a connection arrived");
        using var reader = new StreamReader(connection, Encoding.UTF8, leaveOpen: true);
        var request = await reader.ReadToEndAsync(cancellationToken);
        Console.WriteLine($"A accepted {connection.RemoteEndPoint} and read \"{request}\"");
        await connection.WriteAsync(Encoding.UTF8.GetBytes(request.ToUpperInvariant()), cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
    }
}
