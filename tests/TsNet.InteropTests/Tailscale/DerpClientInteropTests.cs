using System.Diagnostics;
using System.Threading.Channels;
using TsNet.Control.Protocol;
using TsNet.Dataplane;
using TsNet.Derp;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// <see cref="DerpClientSet"/> against the real <c>derper</c> v1.36.2: two clients with different node keys exchange
/// packets (64 KiB, 1 000 in order), ping it, survive a derper restart, and use two derpers as two regions (on-demand
/// connection, reply via the other region, idle close). Serialized with the other interop tests; bounded.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class DerpClientInteropTests
{
    private const string SecondHostName = "derp2.tail.test";

    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    private readonly TestLog _log;

    public DerpClientInteropTests(ITestOutputHelper output) => _log = new TestLog(output);

    [TailscaleFact]
    public async Task TwoClients_ExchangeBothWays_64KiBAnd1000InOrder_PingAnswered_PeerGoneOnLeave()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp = await DerpServer.StartAsync(workDir, bound.Token);
        var map = MapOf((1, derp));
        await using var a = new Client(map, home: 1);
        var b = new Client(map, home: 1);
        try
        {
            await WaitConnectedAsync(bound.Token, (a, 1), (b, 1));

            // derper needs the receiver registered before it routes to it: the first exchange proves both are.
            await ExchangeUntilDeliveredAsync(a, b, 1, bound.Token);
            await ExchangeUntilDeliveredAsync(b, a, 1, bound.Token);

            var big = Pattern(DerpProtocol.MaxPacketSize, 7);
            a.Set.TrySend(1, b.PublicKey, big).Should().BeTrue();
            var received = await b.ReceiveAsync(bound.Token);
            received.Region.Should().Be(1);
            received.Source.Should().Equal(a.PublicKey);
            received.Packet.Should().Equal(big, "a 64 KiB packet arrives byte-exact");
            b.Set.TrySend(1, a.PublicKey, big).Should().BeTrue();
            (await a.ReceiveAsync(bound.Token)).Packet.Should().Equal(big);

            // 1 000 packets in order; windows of 16 stay inside derper's per-client queue (it drops on overflow).
            var clock = Stopwatch.StartNew();
            const int Count = 1000;
            const int Window = 16;
            for (var start = 0; start < Count; start += Window)
            {
                for (var i = start; i < start + Window; i++)
                {
                    a.Set.TrySend(1, b.PublicKey, Pattern(100 + (i % 1200), i)).Should().BeTrue();
                }

                for (var i = start; i < start + Window; i++)
                {
                    var packet = await b.ReceiveAsync(bound.Token);
                    packet.Packet.Should().Equal(Pattern(100 + (i % 1200), i), $"packet {i} arrives in order");
                }
            }

            _log.Write($"1000 packets A→B in {clock.ElapsedMilliseconds} ms");
            a.Set.GetStatus().Single().PacketsSent.Should().BeGreaterThanOrEqualTo(Count + 2);
            b.Set.GetStatus().Single().PacketsReceived.Should().BeGreaterThanOrEqualTo(Count + 2);
            a.Set.SendDrops.Should().Be(0);
            b.Set.InboundDrops.Should().Be(0);

            (await a.Set.PingAsync(1, TimeSpan.FromSeconds(5), bound.Token)).Should().BeTrue("derper answers Ping with Pong");

            // b sent to a: when b leaves, derper tells a (v1.36.2: PeerGone without a reason byte).
            var gone = new TaskCompletionSource<(int, WireGuardKey)>(TaskCreationOptions.RunContinuationsAsynchronously);
            a.Set.PeerGone += (region, key) => gone.TrySetResult((region, key));
            await b.DisposeAsync();
            var (goneRegion, goneKey) = await gone.Task.WaitAsync(TimeSpan.FromSeconds(10), bound.Token);
            goneRegion.Should().Be(1);
            goneKey.Bytes.ToArray().Should().Equal(b.PublicKey);
            b.Pool.IdleCount.Should().Be((int)b.Pool.CreatedCount, "dispose returned every buffer");
            b.Set.Tasks.Should().OnlyContain(task => task.IsCompleted);
        }
        finally
        {
            await b.DisposeAsync();
        }

        workDir.Complete();
    }

    [TailscaleFact]
    public async Task DerperRestart_BothReconnect_AndExchangeAgainWithin15s()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp = await DerpServer.StartAsync(workDir, bound.Token);
        var map = MapOf((1, derp));
        await using var a = new Client(map, home: 1);
        await using var b = new Client(map, home: 1);
        await WaitConnectedAsync(bound.Token, (a, 1), (b, 1));
        await ExchangeUntilDeliveredAsync(a, b, 1, bound.Token);
        a.ConnectedEvents.Should().Be(1);

        await derp.RestartAsync(bound.Token);
        var clock = Stopwatch.StartNew();
        using (var within = CancellationTokenSource.CreateLinkedTokenSource(bound.Token))
        {
            within.CancelAfter(TimeSpan.FromSeconds(15));
            await Poll.UntilAsync(_ => Task.FromResult(a.ConnectedEvents >= 2 && b.ConnectedEvents >= 2), ok => ok, TimeSpan.FromSeconds(15), "both reconnected", within.Token, TimeSpan.FromMilliseconds(20));
            await ExchangeUntilDeliveredAsync(a, b, 1, within.Token);
            await ExchangeUntilDeliveredAsync(b, a, 1, within.Token);
        }

        _log.Write($"reconnected and exchanged {clock.ElapsedMilliseconds} ms after derper was serving again");
        a.Set.GetStatus().Single().Connected.Should().BeTrue();
        workDir.Complete();
    }

    [TailscaleFact]
    public async Task TwoDerpersAsTwoRegions_OnDemandSend_ReplyViaOtherRegion_IdleConnectionCloses()
    {
        TailscaleBinaries.EnsureAvailable();
        using var bound = new CancellationTokenSource(TestBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var derp1 = await DerpServer.StartAsync(workDir, bound.Token);
        await using var derp2 = await DerpServer.StartAsync(workDir, SecondHostName, bound.Token);
        derp2.Host.Should().Be(SecondHostName);
        var map = MapOf((1, derp1), (2, derp2));
        var idle = TimeSpan.FromSeconds(2);
        await using var x = new Client(map, home: 1, idle);
        await using var y = new Client(map, home: 2, idle);
        await WaitConnectedAsync(bound.Token, (x, 1), (y, 2));
        x.Set.GetStatus().Select(s => s.RegionId).Should().Equal(1);

        // X → Y through Y's home region 2: X connects there on demand.
        await ExchangeUntilDeliveredAsync(x, y, 2, bound.Token);
        x.Set.GetStatus().Select(s => (s.RegionId, s.IsHome)).Should().Equal((1, true), (2, false));

        // Y → X through X's home region 1.
        await ExchangeUntilDeliveredAsync(y, x, 1, bound.Token);

        // Y heard X on region 2: when X's idle on-demand connection there closes, derper 2 says X is gone.
        var gone = new TaskCompletionSource<(int, WireGuardKey)>(TaskCreationOptions.RunContinuationsAsynchronously);
        y.Set.PeerGone += (region, key) =>
        {
            if (region == 2)
            {
                gone.TrySetResult((region, key));
            }
        };
        var clock = Stopwatch.StartNew();
        await Poll.UntilAsync(_ => Task.FromResult(x.Set.GetStatus().Select(s => s.RegionId).ToList()), regions => regions.SequenceEqual([1]), TimeSpan.FromSeconds(15), "X's region 2 closed as idle", bound.Token, TimeSpan.FromMilliseconds(50));
        _log.Write($"X's idle region 2 closed {clock.ElapsedMilliseconds} ms after its last send (idle timeout {idle.TotalSeconds} s, check every {x.Set.MaintenanceInterval.TotalSeconds} s)");
        var (_, goneKey) = await gone.Task.WaitAsync(TimeSpan.FromSeconds(10), bound.Token);
        goneKey.Bytes.ToArray().Should().Equal(x.PublicKey);
        x.Set.GetStatus().Single().Should().Match<DerpRegionStatus>(s => s.RegionId == 1 && s.Connected && s.IsHome);
        await Poll.UntilAsync(_ => Task.FromResult(y.Set.GetStatus().Select(s => s.RegionId).ToList()), regions => regions.SequenceEqual([2]), TimeSpan.FromSeconds(15), "Y's reply region 1 closed as idle", bound.Token, TimeSpan.FromMilliseconds(50));
        y.Set.GetStatus().Single().Should().Match<DerpRegionStatus>(s => s.RegionId == 2 && s.Connected && s.IsHome);

        // And it reopens on demand.
        await ExchangeUntilDeliveredAsync(x, y, 2, bound.Token);
        workDir.Complete();
    }

    private static DERPMap MapOf(params (int RegionId, DerpServer Server)[] regions) => new()
    {
        Regions = regions.ToDictionary(
            r => r.RegionId,
            r => (DERPRegion?)new DERPRegion
            {
                RegionID = r.RegionId,
                RegionCode = "test" + r.RegionId,
                Nodes =
                [
                    new DERPNode
                    {
                        Name = r.RegionId + "a",
                        RegionID = r.RegionId,
                        HostName = r.Server.Host,
                        IPv4 = "127.0.0.1",
                        IPv6 = "none",
                        DERPPort = r.Server.TlsPort,
                        STUNPort = r.Server.StunPort,
                        InsecureForTests = true,
                    },
                ],
            }),
    };

    private static async Task WaitConnectedAsync(CancellationToken cancellationToken, params (Client Client, int Region)[] wanted)
    {
        await Poll.UntilAsync(
            _ => Task.FromResult(wanted.All(w => w.Client.Set.GetStatus().Any(s => s.RegionId == w.Region && s.Connected))),
            ok => ok,
            ConnectTimeout,
            "connected",
            cancellationToken,
            TimeSpan.FromMilliseconds(20));
    }

    /// <summary>
    /// Sends a marker from <paramref name="from"/> to <paramref name="to"/> via <paramref name="region"/> until one
    /// arrives (derper drops packets for a key it has not registered yet), then checks it is byte-exact.
    /// </summary>
    private static async Task ExchangeUntilDeliveredAsync(Client from, Client to, int region, CancellationToken cancellationToken)
    {
        var marker = Pattern(64, Random.Shared.Next());
        var clock = Stopwatch.StartNew();
        while (true)
        {
            from.Set.TrySend(region, to.PublicKey, marker).Should().BeTrue();
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromMilliseconds(500));
            try
            {
                while (true)
                {
                    var received = await to.ReceiveAsync(wait.Token);
                    if (received.Packet.AsSpan().SequenceEqual(marker))
                    {
                        received.Region.Should().Be(region);
                        received.Source.Should().Equal(from.PublicKey);
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                clock.Elapsed.Should().BeLessThan(ConnectTimeout, "a packet should get through once both are connected");
            }
        }
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed);
        }

        return bytes;
    }

    /// <summary>A DERP client set with its own key, a 70 KiB-buffer pool (64 KiB packets fit) and an inbound channel.</summary>
    private sealed class Client : IAsyncDisposable
    {
        private int _disposed;

        public Client(DERPMap map, int home, TimeSpan? idleTimeout = null)
        {
            var key = WireGuardKey.Generate();
            PublicKey = key.PublicKey.Bytes.ToArray();
            Pool = new PacketBufferPool(70 * 1024, 256);
            Inbound = Channel.CreateBounded<UnderlayDatagram>(4096);
            Set = new DerpClientSet(new DerpClientSetOptions
            {
                NodePrivateKey = key.Bytes.ToArray(),
                Pool = Pool,
                Inbound = Inbound.Writer,
                IdleTimeout = idleTimeout ?? TimeSpan.FromSeconds(60),
            });
            Set.Connected += _ => Interlocked.Increment(ref _connectedEvents);
            Set.SetDerpMap(map);
            Set.SetHomeRegion(home);
        }

        private int _connectedEvents;

        public int ConnectedEvents => Volatile.Read(ref _connectedEvents);

        public byte[] PublicKey { get; }

        public PacketBufferPool Pool { get; }

        public Channel<UnderlayDatagram> Inbound { get; }

        public DerpClientSet Set { get; }

        public async Task<(int Region, byte[] Source, byte[] Packet)> ReceiveAsync(CancellationToken cancellationToken)
        {
            var datagram = await Inbound.Reader.ReadAsync(cancellationToken);
            try
            {
                datagram.Source.IsDerp.Should().BeTrue();
                datagram.Source.Should().Be(UnderlayAddress.Derp(datagram.Source.Port));
                var bytes = datagram.Buffer.Span;
                return (datagram.Source.Port, bytes[..32].ToArray(), bytes[32..].ToArray());
            }
            finally
            {
                datagram.Buffer.Return();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            await Set.DisposeAsync();
            while (Inbound.Reader.TryRead(out var datagram))
            {
                datagram.Buffer.Return();
            }
        }
    }
}
