using System.Net;

namespace TsNet.Tests.Facade;

/// <summary>QueueCapacity is validated where the options are taken, not later inside a loop.</summary>
public sealed class QueueCapacityTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65_537)]
    public void OutOfRange_IsRefusedByTheConstructor(int capacity)
    {
        var act = () => Node("100.64.0.1", capacity);

        act.Should().Throw<ArgumentException>().WithMessage("*QueueCapacity*");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(65_536)]
    public async Task InRange_CarriesTraffic(int capacity)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var a = Node("100.64.0.1", capacity);
        await using var b = Node("100.64.0.2", capacity);
        await a.StartAsync(cts.Token);
        await b.StartAsync(cts.Token);
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = b.PublicKey, Endpoint = "127.0.0.1:" + b.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.2/32") } });
        b.AddOrUpdatePeer(new TailnetPeer { PublicKey = a.PublicKey, AllowedIps = { IPNetwork.Parse("100.64.0.1/32") } });

        // Peers are applied in the background: the first pings may go out before A knows B.
        TimeSpan? rtt = null;
        while (rtt is null)
        {
            try
            {
                rtt = await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(2), cts.Token);
            }
            catch (TimeoutException)
            {
            }
        }

        rtt.Value.Should().BeLessThan(TimeSpan.FromSeconds(2));
    }

    private static TailnetServer Node(string address, int capacity) => new(new TailnetServerOptions
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { IPNetwork.Parse(address + "/32") },
        QueueCapacity = capacity,
    });
}
