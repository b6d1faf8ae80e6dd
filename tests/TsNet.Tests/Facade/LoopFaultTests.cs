using System.Net;

namespace TsNet.Tests.Facade;

/// <summary>A loop that faults takes the node down: pending and later calls fail with the cause, GetStatus reports it.</summary>
public sealed class LoopFaultTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly IPAddress Nobody = IPAddress.Parse("100.64.0.9");

    private static TailnetServer NewNode() => new(new TailnetServerOptions
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { IPNetwork.Parse("100.64.0.1/32") },
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LoopFault_FailsPendingAndLaterCalls_WithTheCause(bool dataplane)
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = NewNode();
        await node.StartAsync(cts.Token);
        var listener = await node.ListenTcpAsync(8080, cts.Token);
        var accept = listener.AcceptAsync(cts.Token).AsTask();
        // Both wait for an answer that never comes (100.64.0.9 is a peer without endpoint: no handshake ever
        // starts): without the fault they would hang for a minute and for the handshake bound.
        node.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, AllowedIps = { new IPNetwork(Nobody, 32) } });
        var ping = node.PingAsync(Nobody, TimeSpan.FromMinutes(1), cts.Token).AsTask();
        var connect = node.ConnectTcpAsync(new IPEndPoint(Nobody, 80), cts.Token).AsTask();
        await WaitUntilAsync(() => node.Netstack.Counters.OutboundPackets >= 2, cts.Token);
        var cause = new InvalidDataException("injected bug");

        node.FaultLoopForTest(dataplane, cause);

        (await FluentActions.Awaiting(() => ping).Should().ThrowAsync<InvalidOperationException>())
            .Which.InnerException.Should().BeSameAs(cause);
        (await FluentActions.Awaiting(() => connect).Should().ThrowAsync<InvalidOperationException>())
            .Which.InnerException.Should().BeSameAs(cause);
        (await FluentActions.Awaiting(async () => await node.PingAsync(Nobody, TimeSpan.FromMinutes(1), cts.Token))
            .Should().ThrowAsync<InvalidOperationException>()).Which.InnerException.Should().BeSameAs(cause);
        (await FluentActions.Awaiting(async () => await node.ListenTcpAsync(80, cts.Token))
            .Should().ThrowAsync<InvalidOperationException>()).Which.InnerException.Should().BeSameAs(cause);
        FluentActions.Invoking(() => node.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey }))
            .Should().Throw<InvalidOperationException>().Which.InnerException.Should().BeSameAs(cause);
        node.GetStatus().Fault.Should().Contain("injected bug");
        (await accept.WaitAsync(cts.Token)).Should().BeNull("a listener of a faulted node accepts nothing more");
        await listener.DisposeAsync(); // does not throw: the faulted loop took the listener with it
    }

    [Fact]
    public async Task HealthyNode_ReportsNoFault()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var node = NewNode();
        await node.StartAsync(cts.Token);

        node.GetStatus().Fault.Should().BeNull();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }
}
