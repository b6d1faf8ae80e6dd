using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TsNet.Tests.Facade;

/// <summary>
/// RegisterFallbackTcpHandler end to end: node A dials through WireGuard to node B, whose handlers claim flows no
/// listener takes — including flows to addresses that are not B's own (A routes 198.18.0.0/15 to B).
/// </summary>
public sealed class FallbackTcpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Handler_ClaimsFlowsToAnyAddress_AndServesThemOverTheTailnet()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartRoutedPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            using var registration = b.RegisterFallbackTcpHandler((source, destination) => destination.Port == 80
                ? FallbackDecision.Accept((connection, token) => AnswerAsync(connection, $"you asked for {destination} from {source.Address}", token))
                : FallbackDecision.Decline);

            (await FetchAsync(a, "198.18.0.7:80", cts.Token)).Should().Be("you asked for 198.18.0.7:80 from 100.64.0.1");
            (await FetchAsync(a, "198.19.255.1:80", cts.Token)).Should().Be("you asked for 198.19.255.1:80 from 100.64.0.1");
            (await FetchAsync(a, "100.64.0.2:80", cts.Token)).Should().Be("you asked for 100.64.0.2:80 from 100.64.0.1");
            await AssertRefusedAsync(a, "100.64.0.2:81", cts.Token); // every handler declined: RST, as without handlers
        }
    }

    [Fact]
    public async Task Order_Reject_ListenerPrecedence_AndDeregistration()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartRoutedPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await AssertRefusedAsync(a, "100.64.0.2:80", cts.Token);
            var throwing = b.RegisterFallbackTcpHandler((_, _) => throw new InvalidOperationException("a buggy handler"));
            var rejecting = b.RegisterFallbackTcpHandler((_, d) => d.Port == 81 ? FallbackDecision.Reject : FallbackDecision.Decline);
            var first = b.RegisterFallbackTcpHandler((_, _) => FallbackDecision.Accept((c, t) => AnswerAsync(c, "first", t)));
            var second = b.RegisterFallbackTcpHandler((_, _) => FallbackDecision.Accept((c, t) => AnswerAsync(c, "second", t)));

            (await FetchAsync(a, "100.64.0.2:80", cts.Token)).Should().Be("first", "the first claim in registration order wins; the throwing one declined");
            await AssertRefusedAsync(a, "100.64.0.2:81", cts.Token);

            await using (var listener = await b.ListenTcpAsync(80, cts.Token))
            {
                var served = Task.Run(async () =>
                {
                    await using var connection = await listener.AcceptAsync(cts.Token) ?? throw new InvalidOperationException("no connection");
                    await AnswerAsync(connection, "listener", cts.Token);
                }, cts.Token);
                (await FetchAsync(a, "100.64.0.2:80", cts.Token)).Should().Be("listener", "listeners always come first");
                await served;
            }

            first.Dispose();
            (await FetchAsync(a, "100.64.0.2:80", cts.Token)).Should().Be("second");
            second.Dispose();
            await AssertRefusedAsync(a, "100.64.0.2:80", cts.Token);
            rejecting.Dispose();
            throwing.Dispose();
            await AssertRefusedAsync(a, "100.64.0.2:80", cts.Token);
        }
    }

    [Fact]
    public async Task AcceptedFlow_KeepsRunning_AfterItsRegistrationIsDisposed()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartRoutedPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var registration = b.RegisterFallbackTcpHandler((_, _) => FallbackDecision.Accept(async (connection, token) =>
            {
                // An echo that runs until the client closes.
                await connection.CopyToAsync(connection, token);
            }));
            await using var client = await a.ConnectTcpAsync("198.18.0.9:7", cts.Token);
            var buffer = new byte[5];
            await client.WriteAsync("one.."u8.ToArray(), cts.Token);
            await client.ReadExactlyAsync(buffer, cts.Token);
            registration.Dispose();
            await client.WriteAsync("two.."u8.ToArray(), cts.Token);
            await client.ReadExactlyAsync(buffer, cts.Token);
            Encoding.ASCII.GetString(buffer).Should().Be("two..");
        }
    }

    [Fact]
    public async Task InFlightCapFromLimits_RefusesTheFlowOverIt_UntilOneEnds()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartRoutedPairAsync(cts.Token, new TailnetLimits { FallbackTcpMaxInFlightPerPort = 1 });
        await using (a)
        await using (b)
        {
            using var registration = b.RegisterFallbackTcpHandler((_, _) => FallbackDecision.Accept((connection, token) => connection.CopyToAsync(connection, token)));
            var first = await a.ConnectTcpAsync("198.18.0.1:22", cts.Token);
            await first.WriteAsync("x"u8.ToArray(), cts.Token);
            await first.ReadExactlyAsync(new byte[1], cts.Token);
            await AssertRefusedAsync(a, "198.18.0.2:22", cts.Token);
            await using (await a.ConnectTcpAsync("198.18.0.2:23", cts.Token))
            {
                // Another port has its own cap.
            }

            await first.ShutdownWriteAsync(cts.Token);
            await first.CopyToAsync(Stream.Null, cts.Token);
            await first.DisposeAsync();
            // The slot is released when the handler's task ends, just after the FIN exchange: retry briefly.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await using var again = await a.ConnectTcpAsync("198.18.0.2:22", cts.Token);
                    break;
                }
                catch (SocketException) when (attempt < 50)
                {
                    await Task.Delay(20, cts.Token);
                }
            }
        }
    }

    private static async Task AnswerAsync(TailnetConnection connection, string text, CancellationToken cancellationToken)
    {
        await connection.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
        // Wait for the client's FIN so the whole answer is delivered before the connection is disposed.
        await connection.CopyToAsync(Stream.Null, cancellationToken);
    }

    private static async Task<string> FetchAsync(TailnetServer node, string target, CancellationToken cancellationToken)
    {
        await using var connection = await node.ConnectTcpAsync(target, cancellationToken);
        await connection.ShutdownWriteAsync(cancellationToken);
        var received = new MemoryStream();
        await connection.CopyToAsync(received, cancellationToken);
        return Encoding.UTF8.GetString(received.ToArray());
    }

    private static async Task AssertRefusedAsync(TailnetServer node, string target, CancellationToken cancellationToken)
    {
        var act = async () => await node.ConnectTcpAsync(target, cancellationToken);
        (await act.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
    }

    private static async Task<(TailnetServer A, TailnetServer B)> StartRoutedPairAsync(CancellationToken cancellationToken, TailnetLimits? limitsOfB = null)
    {
        var a = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") } });
        var b = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.2/32") }, Limits = limitsOfB ?? new() });
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        a.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = b.PublicKey,
            Endpoint = "127.0.0.1:" + b.ListenPort,
            AllowedIps = { IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("198.18.0.0/15") }, // B answers for the test range
        });
        b.AddOrUpdatePeer(new TailnetPeer { PublicKey = a.PublicKey, Endpoint = "127.0.0.1:" + a.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.1/32") } });
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(1), cancellationToken);
                return (a, b);
            }
            catch (TimeoutException) when (attempt < 20)
            {
                // Peers apply asynchronously.
            }
        }
    }
}

/// <summary>TailnetLimits validation.</summary>
public sealed class TailnetLimitsTests
{
    [Theory]
    [InlineData("MaxTcpConnections")]
    [InlineData("TcpListenBacklog")]
    [InlineData("UdpReceiveQueueCapacity")]
    [InlineData("FallbackTcpMaxInFlightPerPort")]
    [InlineData("FallbackTcpMaxPorts")]
    public void NonPositiveCounts_AreRejected_NamingTheLimit(string name)
    {
        var limits = new TailnetLimits();
        typeof(TailnetLimits).GetProperty(name)!.SetValue(limits, 0);
        var act = () => new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") }, Limits = limits });
        act.Should().Throw<ArgumentException>().WithMessage($"*{name}*");
    }

    [Fact]
    public void BufferSizes_MustBeOrdered()
    {
        var act = () => new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            Limits = new TailnetLimits { TcpInitialBufferSize = 1 << 20, TcpMaxBufferSize = 1 << 16 },
        });
        act.Should().Throw<ArgumentException>().WithMessage("*TcpInitialBufferSize*");
    }
}
