using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TsNet.Tests.Netstack;
using TsNet.Tests.Underlay;
using TsNet.Underlay;

namespace TsNet.Tests.Facade;

/// <summary>
/// TCP through the whole node: two TailnetServers on an in-memory underlay hub (the UDP path has tests of its own),
/// listener, connect, streams.
/// </summary>
public sealed class TcpFacadeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static int Scale => TestScale.Factor;

    /// <summary>
    /// Two started nodes (A = 100.64.0.1, B = 100.64.0.2 named "bee") on <paramref name="hub"/> (a new perfect one by
    /// default) that have completed a handshake. With <paramref name="clock"/>, both nodes and the hub run on it and
    /// this call advances it while it waits.
    /// </summary>
    internal static async Task<(TailnetServer A, TailnetServer B)> StartPairAsync(
        CancellationToken cancellationToken, ManualTimeProvider? clock = null, InMemoryUnderlayHub? hub = null, int mtu = 1280)
    {
        var time = (TimeProvider?)clock ?? TimeProvider.System;
        hub ??= new InMemoryUnderlayHub(time);
        var a = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32"), IPNetwork.Parse("fd7a:115c:a1e0::1/128") },
            TimeProvider = time,
            Mtu = mtu,
            TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub },
        });
        var b = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("fd7a:115c:a1e0::2/128") },
            TimeProvider = time,
            Mtu = mtu,
            TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub },
        });
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        a.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = b.PublicKey,
            Endpoint = "127.0.0.1:" + b.ListenPort,
            AllowedIps = { IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("fd7a:115c:a1e0::2/128") },
            Name = "bee",
        });
        b.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = a.PublicKey,
            Endpoint = "127.0.0.1:" + a.ListenPort,
            AllowedIps = { IPNetwork.Parse("100.64.0.1/32"), IPNetwork.Parse("fd7a:115c:a1e0::1/128") },
        });
        // Peers apply asynchronously: wait until a ping goes through.
        for (var i = 0; ; i++)
        {
            try
            {
                var ping = a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(1), cancellationToken).AsTask();
                await (clock is null ? ping : clock.AdvanceUntilAsync(ping));
                return (a, b);
            }
            catch (TimeoutException) when (i < 10)
            {
            }
        }
    }

    private static byte[] Data(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Theory]
    [InlineData("100.64.0.2")]
    [InlineData("fd7a:115c:a1e0::2")]
    public async Task Transfer_BothDirections_ArrivesByteExact(string serverAddress)
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var size = 2 * 1024 * 1024 * Scale;
            var upload = Data(size, 1);
            var download = Data(size, 2);
            await using var listener = await b.ListenTcpAsync(8080, cts.Token);
            var server = Task.Run(async () =>
            {
                await using var connection = await listener.AcceptAsync(cts.Token) ?? throw new InvalidOperationException("listener closed");
                var received = new MemoryStream();
                var readTask = connection.CopyToAsync(received, cts.Token);
                await connection.WriteAsync(download, cts.Token);
                await connection.ShutdownWriteAsync(cts.Token);
                await readTask;
                return received.ToArray();
            }, cts.Token);

            await using var client = await a.ConnectTcpAsync(IPAddress.Parse(serverAddress).AddressFamily == AddressFamily.InterNetwork ? "100.64.0.2:8080" : "[fd7a:115c:a1e0::2]:8080", cts.Token);
            client.RemoteEndPoint.Port.Should().Be(8080);
            var clientReceived = new MemoryStream();
            var clientRead = client.CopyToAsync(clientReceived, cts.Token);
            var transfer = Task.Run(async () =>
            {
                await client.WriteAsync(upload, cts.Token);
                await client.ShutdownWriteAsync(cts.Token);
                await clientRead;
                return await server;
            });
            if (await Task.WhenAny(transfer, Task.Delay(TimeSpan.FromSeconds(45))) != transfer)
            {
                // Say where it stuck before the bound cancels everything.
                throw new TimeoutException($"transfer stuck: client received {clientReceived.Length} of {download.Length}\nA:\n{await a.DescribeAsync()}\nB:\n{await b.DescribeAsync()}");
            }

            var serverReceived = await transfer;

            if (serverReceived.Length != upload.Length || clientReceived.Length != download.Length)
            {
                // A short stream: say what both netstacks think before failing (diagnosis of a rare early EOF).
                throw new Xunit.Sdk.XunitException(
                    $"upload {serverReceived.Length}/{upload.Length}, download {clientReceived.Length}/{download.Length}\nA:\n{await a.DescribeAsync()}\nB:\n{await b.DescribeAsync()}");
            }

            AssertSameBytes(serverReceived, upload, "upload (client → server)");
            AssertSameBytes(clientReceived.ToArray(), download, "download (server → client)");
        }
    }

    /// <summary>Byte-exact check that, on a mismatch, says where the streams first differ (for diagnosis).</summary>
    private static void AssertSameBytes(byte[] actual, byte[] expected, string what)
    {
        if (SHA256.HashData(actual).AsSpan().SequenceEqual(SHA256.HashData(expected)))
        {
            return;
        }

        var at = actual.AsSpan().CommonPrefixLength(expected);
        var context = Math.Min(16, Math.Max(0, Math.Min(actual.Length, expected.Length) - at));
        throw new Xunit.Sdk.XunitException(
            $"{what}: {actual.Length} bytes received, {expected.Length} sent; first difference at offset {at} " +
            $"(got {Convert.ToHexString(actual.AsSpan(at, context))}, expected {Convert.ToHexString(expected.AsSpan(at, context))})");
    }

    [Fact]
    public async Task ConnectByPeerName_AndEcho_ThroughThePipeView()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(7, cts.Token);
            var echo = Task.Run(async () =>
            {
                await using var connection = await listener.AcceptAsync(cts.Token);
                await connection!.Transport.Input.CopyToAsync(connection.Transport.Output, cts.Token);
                await connection.Transport.Output.CompleteAsync();
            }, cts.Token);

            await using var client = await a.ConnectTcpAsync("bee:7", cts.Token);
            var message = "hello over the tailnet"u8.ToArray();
            await client.WriteAsync(message, cts.Token);
            var buffer = new byte[message.Length];
            await client.ReadExactlyAsync(buffer, cts.Token);
            buffer.Should().Equal(message);
            await client.ShutdownWriteAsync(cts.Token);
            (await client.ReadAsync(buffer, cts.Token)).Should().Be(0, "the echo server closes after our FIN");
            await echo;
        }
    }

    [Fact]
    public async Task ConnectToClosedPort_IsRefusedQuickly()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var started = DateTime.UtcNow;
            var act = async () => await a.ConnectTcpAsync("100.64.0.2:9", cts.Token);
            (await act.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
            (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public async Task UnknownName_IsAClearError_NotAHostDnsLookup()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var act = async () => await a.ConnectTcpAsync("example.com:80", cts.Token);
            (await act.Should().ThrowAsync<ArgumentException>()).WithMessage("*neither an IP address nor the name of a peer*");
        }
    }

    [Fact]
    public async Task Listener_Dispose_EndsAccept_AndDuplicateListenFails()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var listener = await b.ListenTcpAsync(80, cts.Token);
            var duplicate = async () => await b.ListenTcpAsync(80, cts.Token);
            await duplicate.Should().ThrowAsync<InvalidOperationException>();
            var accept = listener.AcceptAsync(cts.Token).AsTask();
            await listener.DisposeAsync();
            (await accept).Should().BeNull();
            var again = await b.ListenTcpAsync(80, cts.Token);
            await again.DisposeAsync();
        }
    }

    [Fact]
    public async Task Abort_ResetsThePeer()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(81, cts.Token);
            var accepted = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("100.64.0.2:81", cts.Token);
            await using var server = (await accepted)!;
            client.Abort();
            var read = async () => await server.ReadAsync(new byte[10], cts.Token);
            // Like NetworkStream: an IOException carrying the SocketException (HttpClient and SslStream expect that shape).
            (await read.Should().ThrowAsync<IOException>()).WithInnerException<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        }
    }

    [Fact]
    public async Task OutputCompletedWithAnError_ResetsThePeerInsteadOfEndingCleanly()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(83, cts.Token);
            var accepted = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("100.64.0.2:83", cts.Token);
            await using var server = (await accepted)!;
            await client.Transport.Output.WriteAsync("partial"u8.ToArray(), cts.Token);
            await client.Transport.Output.CompleteAsync(new InvalidOperationException("the app failed mid-body"));

            // Whatever arrived before the reset may be read; the stream must then fail, never end as if complete.
            var buffer = new byte[64];
            var readToEnd = async () =>
            {
                while (await server.ReadAsync(buffer, cts.Token) > 0)
                {
                }
            };
            (await readToEnd.Should().ThrowAsync<IOException>()).WithInnerException<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        }
    }

    [Fact]
    public async Task DisposingTheServer_CompletesPendingReadsAndAccepts()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using var listener = await b.ListenTcpAsync(82, cts.Token);
        var accepted = listener.AcceptAsync(cts.Token).AsTask();
        var client = await a.ConnectTcpAsync("100.64.0.2:82", cts.Token);
        var server = (await accepted)!;
        var pendingRead = client.ReadAsync(new byte[10], cts.Token).AsTask();
        var pendingAccept = listener.AcceptAsync(cts.Token).AsTask();
        await a.DisposeAsync();
        await b.DisposeAsync();
        var act = async () => await pendingRead.WaitAsync(Bound);
        await act.Should().ThrowAsync<ObjectDisposedException>();
        (await pendingAccept.WaitAsync(Bound)).Should().BeNull();
        await client.DisposeAsync();
        await server.DisposeAsync();
    }
}

/// <summary>A connection that closes (LAST-ACK → CLOSED) while its app is behind must still hand over every byte.</summary>
public sealed class TcpCloseWhileBehindTests
{
    [Fact]
    public async Task PeerClosesAndWeClose_BeforeReading_AllBytesStillArrive()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(9000, cts.Token);
            var accepted = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("100.64.0.2:9000", cts.Token);
            await using var server = (await accepted)!;

            var data = new byte[1024 * 1024];
            new Random(5).NextBytes(data);
            await client.WriteAsync(data, cts.Token);
            await client.ShutdownWriteAsync(cts.Token); // client FIN: the server goes to CLOSE-WAIT

            // Everything must have arrived (the server's TCP buffer grows to hold it) before the server reads
            // anything: the client is in FIN-WAIT-2 once the server acknowledged every byte and the FIN.
            await WaitForAsync(a, " FinWait2 ", cts.Token);
            await server.ShutdownWriteAsync(cts.Token); // server FIN: LAST-ACK, then CLOSED once the client ACKs
            // Closed once the client's ACK of that FIN is in: the server is neither in CLOSE-WAIT nor in LAST-ACK.
            await WaitForAsync(b, " CloseWait ", cts.Token, present: false);
            await WaitForAsync(b, " LastAck ", cts.Token, present: false);

            var received = new MemoryStream();
            await server.CopyToAsync(received, cts.Token);
            received.Length.Should().Be(data.Length, "bytes still buffered when the connection closed belong to the app");
            received.ToArray().Should().Equal(data);
        }
    }

    /// <summary>Waits until the node's TCP table does (or no longer does) show <paramref name="marker"/> (a state name).</summary>
    private static async Task WaitForAsync(TailnetServer node, string marker, CancellationToken cancellationToken, bool present = true)
    {
        while ((await node.DescribeAsync()).Contains(marker, StringComparison.Ordinal) != present)
        {
            await Task.Delay(10, cancellationToken);
        }
    }
}
