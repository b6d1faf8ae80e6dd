using System.Net;
using TsNet.Tests.Facade;
using TsNet.Tests.Netstack;
using TsNet.Underlay;

namespace TsNet.Tests.Underlay;

/// <summary>Whole nodes over an imperfect in-memory link, on a manual clock the test advances.</summary>
public sealed class LossyLinkFacadeTests
{
    [Fact]
    public async Task TcpTransfer_OverFivePercentLoss_ArrivesByteExact()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock, seed: 5);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        hub.Link = new InMemoryLinkSettings { LossRate = 0.05, Delay = TimeSpan.FromMilliseconds(2) };
        var upload = new byte[512 * 1024];
        new Random(3).NextBytes(upload);

        var transfer = Task.Run(async () =>
        {
            await using var listener = await b.ListenTcpAsync(8080, cts.Token);
            var server = Task.Run(async () =>
            {
                await using var connection = await listener.AcceptAsync(cts.Token) ?? throw new InvalidOperationException("listener closed");
                var received = new MemoryStream();
                await connection.CopyToAsync(received, cts.Token);
                return received.ToArray();
            }, cts.Token);

            await using var client = await a.ConnectTcpAsync("100.64.0.2:8080", cts.Token);
            await client.WriteAsync(upload, cts.Token);
            await client.ShutdownWriteAsync(cts.Token);
            return await server;
        }, cts.Token);

        var received = await clock.AdvanceUntilAsync(transfer, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(80));
        received.Length.Should().Be(upload.Length);
        received.AsSpan().SequenceEqual(upload).Should().BeTrue("the stream must arrive byte-exact despite loss");
        hub.Lost.Should().BePositive("the link really lost datagrams");
        await clock.AdvanceUntilAsync(a.DisposeAsync().AsTask());
        await clock.AdvanceUntilAsync(b.DisposeAsync().AsTask());
    }

    [Fact]
    public async Task Ping_OverADelayedLink_TakesTheDelayOnTheNodesClock()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var clock = new ManualTimeProvider();
        using var hub = new InMemoryUnderlayHub(clock, seed: 1);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, clock, hub);
        await using (a)
        await using (b)
        {
            hub.Link = new InMemoryLinkSettings { Delay = TimeSpan.FromMilliseconds(40) };
            var rtt = await clock.AdvanceUntilAsync(a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(5), cts.Token).AsTask(), TimeSpan.FromMilliseconds(1));
            rtt.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(80), "40 ms each way on the manual clock");
            rtt.Should().BeLessThan(TimeSpan.FromMilliseconds(200));
        }
    }
}
