using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace TsNet.Tests.Publishing;

/// <summary>Published TCP ports between two in-process nodes, with plain host sockets on the loopback at the ends.</summary>
public sealed class PublishTcpTests
{
    private const int UploadBytes = 1024 * 1024;
    private const int DownloadBytes = 300 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task HostToTailnet_HostClientReachesOverlayServer_ByteExactBothWays_WithHalfClose()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        await using var listener = await pair.B.ListenTcpAsync(8080, cts.Token);
        var upload = RandomBytes(UploadBytes, seed: 1);
        var download = RandomBytes(DownloadBytes, seed: 2);

        // B's server reads until the client's FIN, then answers and closes: the FIN must cross the relay alone.
        var server = Task.Run(
            async () =>
            {
                await using var connection = await listener.AcceptAsync(cts.Token) ?? throw new InvalidOperationException("no connection");
                var received = await ReadToEndAsync(connection, cts.Token);
                await connection.WriteAsync(download, cts.Token);
                await connection.ShutdownWriteAsync(cts.Token);
                return (received, connection.RemoteEndPoint);
            },
            cts.Token);

        await using var publication = await pair.A.PublishAsync([PortMapping.ParseForward("tcp:127.0.0.1:0=b:8080")], cts.Token);
        var port = publication.Ports.Should().ContainSingle().Subject;
        port.EndPoint.Address.Should().Be(IPAddress.Loopback);
        port.EndPoint.Port.Should().NotBe(0, "the actual port is reported when 0 was asked for");

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(port.EndPoint, cts.Token);
        await using var stream = new NetworkStream(client, ownsSocket: false);
        await stream.WriteAsync(upload, cts.Token);
        client.Shutdown(SocketShutdown.Send);
        var answer = await ReadToEndAsync(stream, cts.Token);
        var (serverReceived, seenFrom) = await server;

        SHA256.HashData(serverReceived).Should().Equal(SHA256.HashData(upload));
        serverReceived.Length.Should().Be(UploadBytes);
        answer.Should().Equal(download, "the answer sent after the client's FIN arrives whole");
        seenFrom.Address.Should().Be(NodePair.AddressA, "the overlay connection comes from the publishing node");
        port.TotalSessions.Should().Be(1);
        (await NodePair.EventuallyAsync(() => port.ActiveSessions == 0, TimeSpan.FromSeconds(10))).Should().BeTrue("the relay ends once both sides closed");
    }

    [Fact]
    public async Task TailnetToHost_OverlayClientReachesHostServer_ByteExactEcho()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        using var hostServer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        hostServer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        hostServer.Listen();
        var hostPort = ((IPEndPoint)hostServer.LocalEndPoint!).Port;

        // A host echo server: copies until the FIN, then closes its side.
        var echo = Task.Run(
            async () =>
            {
                using var accepted = await hostServer.AcceptAsync(cts.Token);
                await using var stream = new NetworkStream(accepted, ownsSocket: false);
                await stream.CopyToAsync(stream, cts.Token);
                accepted.Shutdown(SocketShutdown.Send);
                return accepted.RemoteEndPoint;
            },
            cts.Token);

        await using var publication = await pair.B.PublishAsync([PortMapping.ParsePublish($"tcp:8081=127.0.0.1:{hostPort}")], cts.Token);
        publication.Ports[0].EndPoint.Should().Be(new IPEndPoint(NodePair.AddressB, 8081));

        var data = RandomBytes(UploadBytes, seed: 3);
        await using var connection = await pair.A.ConnectTcpAsync("100.64.0.2:8081", cts.Token);
        var reader = ReadToEndAsync(connection, cts.Token);
        await connection.WriteAsync(data, cts.Token);
        await connection.ShutdownWriteAsync(cts.Token);
        var echoed = await reader;
        var hostSawFrom = (IPEndPoint)(await echo)!;

        echoed.Should().HaveCount(UploadBytes);
        SHA256.HashData(echoed).Should().Equal(SHA256.HashData(data));
        hostSawFrom.Address.Should().Be(IPAddress.Loopback);
        publication.Ports[0].TotalSessions.Should().Be(1);
    }

    [Fact]
    public async Task HostToTailnet_UnreachableTarget_ResetsTheHostClient()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        await using var publication = await pair.A.PublishAsync([PortMapping.HostToTailnet(PortProtocol.Tcp, 0, "100.64.0.2:9")], cts.Token);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var connectAndRead = async () =>
        {
            // The reset may already be there when the connect completes (the kernel accepted for the relay).
            await client.ConnectAsync(publication.Ports[0].EndPoint, cts.Token);
            return await client.ReceiveAsync(new byte[16], SocketFlags.None, cts.Token);
        };

        // Nobody listens on B:9, so B answers the SYN with RST and the relay resets the host connection.
        (await connectAndRead.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
    }

    [Fact]
    public async Task TailnetToHost_ClosedHostPort_ResetsTheOverlayClient()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        var closedPort = NodePair.FreeHostPort(SocketType.Stream);
        await using var publication = await pair.B.PublishAsync([PortMapping.ParsePublish($"tcp:8082=127.0.0.1:{closedPort}")], cts.Token);

        await using var connection = await pair.A.ConnectTcpAsync("100.64.0.2:8082", cts.Token);
        var read = async () => await connection.ReadAsync(new byte[16], cts.Token);

        (await read.Should().ThrowAsync<IOException>("the host refused, so the relay resets the overlay connection"))
            .WithInnerException<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
    }

    internal static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    internal static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        await stream.CopyToAsync(received, cancellationToken);
        return received.ToArray();
    }
}
