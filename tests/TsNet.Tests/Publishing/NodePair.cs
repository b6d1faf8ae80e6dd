using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TsNet.Tests.Publishing;

/// <summary>Two started nodes that know each other over the host loopback: A = 100.64.0.1, B = 100.64.0.2 (peer name "b").</summary>
internal sealed class NodePair : IAsyncDisposable
{
    public static readonly IPAddress AddressA = IPAddress.Parse("100.64.0.1");
    public static readonly IPAddress AddressB = IPAddress.Parse("100.64.0.2");

    private NodePair(TailnetServer a, TailnetServer b)
    {
        A = a;
        B = b;
    }

    public TailnetServer A { get; }

    public TailnetServer B { get; }

    public static async Task<NodePair> StartAsync(CancellationToken cancellationToken, TailnetLimits? limitsOfA = null, TailnetLimits? limitsOfB = null, ILoggerFactory? loggerFactoryOfA = null)
    {
        var a = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") }, Limits = limitsOfA ?? new(), LoggerFactory = loggerFactoryOfA ?? NullLoggerFactory.Instance });
        var b = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.2/32") }, Limits = limitsOfB ?? new() });
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = b.PublicKey, Endpoint = "127.0.0.1:" + b.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.2/32") }, Name = "b" });
        b.AddOrUpdatePeer(new TailnetPeer { PublicKey = a.PublicKey, Endpoint = "127.0.0.1:" + a.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.1/32") }, Name = "a" });
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await a.PingAsync(AddressB, TimeSpan.FromSeconds(1), cancellationToken);
                return new NodePair(a, b);
            }
            catch (TimeoutException) when (attempt < 20)
            {
                // Peers apply asynchronously; the first handshake may still be on its way.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
    }

    /// <summary>A port on 127.0.0.1 that was free a moment ago (bound to 0, read, closed).</summary>
    public static int FreeHostPort(SocketType type)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, type, type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Whether <paramref name="port"/> on 127.0.0.1 can be bound now (for <paramref name="type"/>).</summary>
    public static bool HostPortIsFree(SocketType type, int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, type, type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp);
        try
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds or <paramref name="limit"/> passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }
}
