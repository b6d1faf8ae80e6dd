using System.Net;
using System.Net.Sockets;

namespace TsNet.Tests.Facade;

/// <summary>Two nodes in one process over loopback UDP: the facade, dataplane loop, underlay and netstack together.</summary>
public sealed class TailnetServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static TailnetServerOptions Options(string v4, string v6, WireGuardKey? key = null) =>
        new()
        {
            PrivateKey = key ?? WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse(v4 + "/32"), IPNetwork.Parse(v6 + "/128") },
        };

    private static TailnetPeer PeerOf(TailnetServer node, string v4, string v6, int? port) => new()
    {
        PublicKey = node.PublicKey,
        Endpoint = port is { } p ? "127.0.0.1:" + p : null,
        AllowedIps = { IPNetwork.Parse(v4 + "/32"), IPNetwork.Parse(v6 + "/128") },
    };

    private static async Task<(TailnetServer A, TailnetServer B)> StartPairAsync(CancellationToken cancellationToken)
    {
        var a = new TailnetServer(Options("100.64.0.1", "fd7a:115c:a1e0::1"));
        var b = new TailnetServer(Options("100.64.0.2", "fd7a:115c:a1e0::2"));
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        // A knows where B is; B learns A's endpoint from A's handshake (roaming from "none").
        await a.AddOrUpdatePeerAsync(PeerOf(b, "100.64.0.2", "fd7a:115c:a1e0::2", b.ListenPort), cancellationToken);
        await b.AddOrUpdatePeerAsync(PeerOf(a, "100.64.0.1", "fd7a:115c:a1e0::1", null), cancellationToken);
        return (a, b);
    }

    private static async Task<TimeSpan> PingEventuallyAsync(TailnetServer from, string to, CancellationToken cancellationToken)
    {
        // The first echo also waits for the handshake; on a loaded machine allow a few tries.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await from.PingAsync(IPAddress.Parse(to), TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (TimeoutException) when (attempt < 5)
            {
            }
        }
    }

    [Fact]
    public async Task TwoNodes_PingEachOther_OverIPv4AndIPv6()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            a.ListenPort.Should().BeGreaterThan(0);
            (await PingEventuallyAsync(a, "100.64.0.2", cts.Token)).Should().BeLessThan(TimeSpan.FromSeconds(2));
            (await b.PingAsync(IPAddress.Parse("100.64.0.1"), cancellationToken: cts.Token)).Should().BeLessThan(TimeSpan.FromSeconds(2));
            (await a.PingAsync(IPAddress.Parse("fd7a:115c:a1e0::2"), cancellationToken: cts.Token)).Should().BeLessThan(TimeSpan.FromSeconds(2));
            (await b.PingAsync(IPAddress.Parse("fd7a:115c:a1e0::1"), cancellationToken: cts.Token)).Should().BeLessThan(TimeSpan.FromSeconds(2));

            var stats = await a.InspectAsync(core => core.Peers.Single());
            stats.HandshakesCompleted.Should().Be(1);
            stats.TxBytes.Should().BeGreaterThan(0);
        }
    }

    [Fact]
    public async Task Ping_ToAddressWithoutPeer_FailsAtOnce_WithoutSending()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var act = async () => await a.PingAsync(IPAddress.Parse("100.64.0.99"), TimeSpan.FromSeconds(30), cts.Token);
            (await act.Should().ThrowAsync<System.Net.Sockets.SocketException>()).Which.Message.Should().StartWith("no peer routes 100.64.0.99");
            var drops = await a.InspectAsync(core => core.Counters[TsNet.WireGuard.Protocol.WireGuardDropReason.NoRoute]);
            drops.Should().Be(0, "the echo request was never sent");
        }
    }

    [Fact]
    public async Task RemovePeer_StopsTraffic_AndAddingItBackRestoresIt()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await PingEventuallyAsync(a, "100.64.0.2", cts.Token);
            (await b.RemovePeerAsync(a.PublicKey, cts.Token)).Should().BeTrue();
            b.RemovePeer(a.PublicKey).Should().BeFalse();
            (await b.InspectAsync(core => core.PeerCount, cts.Token)).Should().Be(0, "the dataplane dropped A when RemovePeerAsync completed");
            var act = async () => await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromMilliseconds(500), cts.Token);
            await act.Should().ThrowAsync<TimeoutException>();

            await b.AddOrUpdatePeerAsync(PeerOf(a, "100.64.0.1", "fd7a:115c:a1e0::1", a.ListenPort), cts.Token);
            // A still holds the old session B forgot: A's next handshake (after REKEY_TIMEOUT at the latest) heals it.
            var healed = false;
            for (var i = 0; i < 20 && !healed; i++)
            {
                try
                {
                    await b.PingAsync(IPAddress.Parse("100.64.0.1"), TimeSpan.FromSeconds(1), cts.Token);
                    healed = true;
                }
                catch (TimeoutException)
                {
                }
            }

            healed.Should().BeTrue();
        }
    }

    [Fact]
    public async Task StartAsync_IsIdempotent_AndDisposeReleasesThePort()
    {
        using var cts = new CancellationTokenSource(Bound);
        var node = new TailnetServer(Options("100.64.0.1", "fd7a:115c:a1e0::1"));
        await Task.WhenAll(node.StartAsync(cts.Token).AsTask(), node.StartAsync(cts.Token).AsTask());
        await node.StartAsync(cts.Token);
        var port = node.ListenPort;
        port.Should().BeGreaterThan(0);

        await node.DisposeAsync();
        await node.DisposeAsync();

        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Any, port)); // throws if the node still held it
        var ping = async () => await node.PingAsync(IPAddress.Parse("100.64.0.2"), cancellationToken: cts.Token);
        await ping.Should().ThrowAsync<ObjectDisposedException>();
        var start = async () => await node.StartAsync(cts.Token);
        await start.Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task DisposeAsync_RacingStartAsync_LeavesNothingRunning()
    {
        for (var i = 0; i < 20; i++)
        {
            var node = new TailnetServer(Options("100.64.0.1", "fd7a:115c:a1e0::1"));
            var start = node.StartAsync().AsTask();
            var dispose = node.DisposeAsync().AsTask();
            await dispose.WaitAsync(Bound);
            try
            {
                await start.WaitAsync(Bound);
            }
            catch (ObjectDisposedException)
            {
                // Dispose won the race.
            }

            var ping = async () => await node.PingAsync(IPAddress.Parse("100.64.0.2"));
            await ping.Should().ThrowAsync<ObjectDisposedException>();
        }
    }

    [Fact]
    public async Task PendingPing_CompletesWhenTheNodeIsDisposed()
    {
        var (a, b) = await StartPairAsync(CancellationToken.None);
        await b.DisposeAsync();
        // B is gone but still configured: the echo request waits for a handshake that never completes.
        var ping = a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(30)).AsTask();

        // The netstack runs commands in order: once a later one answered, the ping is in flight (not merely queued).
        await a.DescribeAsync();
        ping.IsCompleted.Should().BeFalse();
        await a.DisposeAsync();
        var act = async () => await ping.WaitAsync(Bound);
        await act.Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public void Options_AreValidated_WithClearMessages()
    {
        var noKey = () => new TailnetServer(new TailnetServerOptions { Addresses = { IPNetwork.Parse("100.64.0.1/32") } });
        noKey.Should().Throw<ArgumentException>().WithMessage("*PrivateKey*");

        var noAddress = () => new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate() });
        noAddress.Should().Throw<ArgumentException>().WithMessage("*Addresses*");

        var badEndpoint = Options("100.64.0.1", "fd7a::1");
        badEndpoint.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Endpoint = "fd7a::5:51820" });
        var act = () => new TailnetServer(badEndpoint);
        act.Should().Throw<ArgumentException>().WithMessage("*[address]:port*");

        var key = WireGuardKey.Generate();
        var self = Options("100.64.0.1", "fd7a::1", key);
        self.Peers.Add(new TailnetPeer { PublicKey = key.PublicKey });
        var selfPeer = () => new TailnetServer(self);
        selfPeer.Should().Throw<ArgumentException>().WithMessage("*own public key*");
    }

    [Fact]
    public void WireGuardKey_RoundTripsWgBase64()
    {
        var key = WireGuardKey.Generate();
        WireGuardKey.Parse(key.ToString()).Should().Be(key);
        key.PublicKey.Should().NotBe(key);
        WireGuardKey.TryParse("not a key", out _).Should().BeFalse();
        var act = () => WireGuardKey.Parse("AAAA");
        act.Should().Throw<FormatException>();
    }
}
