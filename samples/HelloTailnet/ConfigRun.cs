using System.Net;
using System.Net.Sockets;
using System.Text;
using TsNet;

namespace HelloTailnet;

/// <summary>One node from a wg-quick file: ping each peer, then optionally dial a peer and/or accept one connection.</summary>
internal static class ConfigRun
{
    public static async Task RunAsync(string configPath, string? dial, int listenPort, CancellationToken cancellationToken)
    {
        var options = TailnetServerOptions.FromWireGuardConfigFile(configPath, warning => Console.Error.WriteLine(warning));
        await using var node = new TailnetServer(options);
        await node.StartAsync(cancellationToken);
        Console.WriteLine($"up: {string.Join(", ", node.Addresses)} on UDP {node.ListenPort}, public key {node.PublicKey}");

        foreach (var peer in options.Peers)
        {
            await PingAsync(node, peer, cancellationToken);
        }

        // Listen before dialing, so a peer that connects back meets an open port.
        await using var listener = listenPort > 0 ? await node.ListenTcpAsync(listenPort, cancellationToken) : null;
        if (dial is not null)
        {
            await DialAsync(node, dial, cancellationToken);
        }

        if (listener is not null)
        {
            Console.WriteLine($"waiting for one connection on {listener.LocalEndPoint}");
            await EchoOneAsync(listener, cancellationToken);
        }
    }

    /// <summary>Pings the peer's first AllowedIPs entry when it is a single host (a /32 or /128).</summary>
    private static async Task PingAsync(TailnetServer node, TailnetPeer peer, CancellationToken cancellationToken)
    {
        var label = peer.Name ?? peer.PublicKey.ToString();
        var host = peer.AllowedIps
            .Where(n => n.PrefixLength == (n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            .Select(n => n.BaseAddress)
            .FirstOrDefault();
        if (host is null)
        {
            Console.WriteLine($"peer {label}: no single-host AllowedIPs entry to ping");
            return;
        }

        try
        {
            var rtt = await node.PingAsync(host, TimeSpan.FromSeconds(5), cancellationToken);
            Console.WriteLine($"ping {label} ({host}): {rtt.TotalMilliseconds:0.0} ms");
        }
        catch (TimeoutException)
        {
            Console.WriteLine($"ping {label} ({host}): no reply within 5 s");
        }
    }

    private static async Task DialAsync(TailnetServer node, string hostAndPort, CancellationToken cancellationToken)
    {
        await using var connection = await node.ConnectTcpAsync(hostAndPort, cancellationToken);
        Console.WriteLine($"connected {connection.LocalEndPoint} -> {connection.RemoteEndPoint}");
        await connection.WriteAsync(Encoding.UTF8.GetBytes("hello from HelloTailnet\n"), cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
        using var reader = new StreamReader(connection, Encoding.UTF8);
        Console.WriteLine($"received \"{(await reader.ReadToEndAsync(cancellationToken)).TrimEnd()}\"");
    }

    private static async Task EchoOneAsync(TailnetListener listener, CancellationToken cancellationToken)
    {
        await using var connection = await listener.AcceptAsync(cancellationToken)
            ?? throw new InvalidOperationException("the listener closed before a connection arrived");
        Console.WriteLine($"accepted {connection.RemoteEndPoint}; echoing until it closes");
        await connection.CopyToAsync(connection, cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
        Console.WriteLine($"{connection.RemoteEndPoint} closed");
    }
}
