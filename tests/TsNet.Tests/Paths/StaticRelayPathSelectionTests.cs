using System.Net;
using TsNet.Tests.Metrics;
using TsNet.Tests.Netstack;
using TsNet.Tests.Underlay;
using TsNet.Underlay;

namespace TsNet.Tests.Paths;

/// <summary>
/// Static peers with both an endpoint and a relay path, on an in-memory hub with a relay on it and a manual clock:
/// traffic goes direct while disco pongs confirm the endpoint and through the relay otherwise, and the WireGuard session
/// carries on across every switch. The hub's <see cref="InMemoryUnderlayHub.Block"/> cuts the direct link.
/// </summary>
public sealed class StaticRelayPathSelectionTests
{
    private static readonly IPAddress AddressA = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress AddressB = IPAddress.Parse("100.64.0.2");
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task DirectWorks_PathIsDirect_AndTrafficDoesNotTouchTheRelay()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var net = await Network.StartAsync(blockDirect: false, cts.Token);
        using var recorder = new MeterRecorder(net.A.Metrics.Meter);

        await net.UntilPathsAsync("direct", cts.Token);
        PathOf(net.A).Should().Be("direct 127.0.0.1:" + net.B.ListenPort);
        PathOf(net.B).Should().Be("direct 127.0.0.1:" + net.A.ListenPort);
        net.A.GetStatus().Peers.Single().Endpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, net.B.ListenPort));
        recorder.Collect();
        recorder.Value("tsnet.peers", "path=direct").Should().Be(1);
        recorder.Value("tsnet.peers", "path=relay").Should().Be(0);

        var forwarded = net.Relay.Forwarded;
        await net.TransferAsync(256 * 1024, port: 8080, cutAfter: null, cts.Token);
        net.Relay.Forwarded.Should().Be(forwarded, "a trusted direct path carries everything; nothing goes through the relay");
        net.Hub.Blocked.Should().Be(0);
        PathOf(net.A).Should().StartWith("direct ");

        // The peers answered each other's pings (the relay path's disco keys), and nothing was dropped as unknown.
        net.A.GetStatus().Drops.Should().NotContainKey("disco.UnknownSender").And.NotContainKey("disco.BadBox");
    }

    [Fact]
    public async Task DirectBlockedFromTheStart_PathIsRelay_AndTcpArrivesByteExact()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var net = await Network.StartAsync(blockDirect: true, cts.Token);
        using var recorder = new MeterRecorder(net.B.Metrics.Meter);

        PathOf(net.A).Should().Be("relay 127.0.0.1:" + net.Relay.Port);
        PathOf(net.B).Should().Be("relay 127.0.0.1:" + net.Relay.Port);
        var forwarded = net.Relay.Forwarded;
        await net.TransferAsync(256 * 1024, port: 8080, cutAfter: null, cts.Token);
        net.Relay.Forwarded.Should().BeGreaterThan(forwarded + (2 * 256 * 1024 / 1400), "both directions' segments went through the relay");
        net.Hub.Blocked.Should().BePositive("disco pings (and the first handshake) went toward the blocked endpoint");

        // Discovery keeps trying, and keeps failing: still the relay after several heartbeats.
        await net.Clock.AdvanceUntilAsync(net.A.PingAsync(AddressB, TimeSpan.FromSeconds(5), cts.Token).AsTask(), Step);
        PathOf(net.A).Should().StartWith("relay ");
        recorder.Collect();
        recorder.Value("tsnet.peers", "path=relay").Should().Be(1);
        recorder.Value("tsnet.peers", "path=direct").Should().Be(0);
    }

    [Fact]
    public async Task DirectCutMidTransfer_CompletesThroughTheRelay_ThenBackToDirect_WithTheSameSession()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        await using var net = await Network.StartAsync(blockDirect: false, cts.Token);
        await net.UntilPathsAsync("direct", cts.Token);
        var handshakeA = net.A.GetStatus().Peers.Single().LastHandshake;
        var handshakeB = net.B.GetStatus().Peers.Single().LastHandshake;
        handshakeA.Should().NotBeNull();

        // A 1 MiB upload; a quarter of the way through, the direct link goes dark.
        var forwarded = net.Relay.Forwarded;
        await net.TransferAsync(1024 * 1024, port: 8080, cutAfter: 256 * 1024, cts.Token);
        net.Hub.Blocked.Should().BePositive("the cut dropped datagrams on the direct link");
        net.Relay.Forwarded.Should().BeGreaterThan(forwarded + 100, "the rest of the transfer went through the relay");
        PathOf(net.A).Should().Be("relay 127.0.0.1:" + net.Relay.Port);
        PathOf(net.B).Should().StartWith("relay ");

        // The link comes back: the next discovery round's pong makes the direct path trusted again.
        net.Hub.Unblock(net.A.ListenPort, net.B.ListenPort);
        await net.UntilPathsAsync("direct", cts.Token);
        forwarded = net.Relay.Forwarded;
        await net.TransferAsync(64 * 1024, port: 8081, cutAfter: null, cts.Token);
        net.Relay.Forwarded.Should().Be(forwarded, "back on the direct path");

        // Same WireGuard session throughout: no handshake was needed for any switch.
        net.A.GetStatus().Peers.Single().LastHandshake.Should().Be(handshakeA);
        net.B.GetStatus().Peers.Single().LastHandshake.Should().Be(handshakeB);
        net.A.GetStatus().Peers.Single().SessionState.Should().Be("established");
    }

    [Fact]
    public async Task DiscoFromAnUnknownKey_IsDroppedAndCounted_NotAnswered()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var net = await Network.StartAsync(blockDirect: false, cts.Token);
        await net.UntilPathsAsync("direct", cts.Token);

        // A stranger (a third hub port) pings A with a disco key no peer of A has.
        var stranger = new global::TsNet.Paths.DiscoPathCore(DiscoKey.Generate().Bytes, WireGuardKey.Generate().PublicKey.Bytes);
        var inbox = System.Threading.Channels.Channel.CreateUnbounded<global::TsNet.Dataplane.UnderlayDatagram>();
        var pool = new global::TsNet.Packets.Buffers.PacketBufferPool();
        await using var side = net.Hub.Attach(0, pool, inbox.Writer, _ => { });
        stranger.SetPeer(net.A.PublicKey.Bytes, net.A.DiscoPublicKey, 0, [new IPEndPoint(IPAddress.Loopback, net.A.ListenPort)], 0);
        var output = new HubPathOutput(side);
        stranger.ChooseSend(stranger.PeerForNodeKey(net.A.PublicKey.Bytes), 0, output);
        output.Sent.Should().Be(1, "one discovery ping went out");

        await net.Clock.AdvanceUntilAsync(() => net.A.GetStatus().Drops.GetValueOrDefault("disco.UnknownSender") == 1, Step);
        await net.Clock.AdvanceUntilAsync(net.A.PingAsync(AddressB, TimeSpan.FromSeconds(5), cts.Token).AsTask(), Step);
        inbox.Reader.TryRead(out _).Should().BeFalse("A answers no pong to a key it was not configured with");
    }

    private static string? PathOf(TailnetServer node) => node.GetStatus().Peers.Single().Path;

    /// <summary>Sends a core's disco output over a hub port.</summary>
    private sealed class HubPathOutput(InMemoryUnderlay side) : global::TsNet.Paths.IPathOutput
    {
        public int Sent { get; private set; }

        public void SendUdp(in global::TsNet.WireGuard.Protocol.UnderlayAddress destination, ReadOnlySpan<byte> datagram)
        {
            Sent++;
            side.Send(destination, datagram);
        }

        public void SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram) => throw new InvalidOperationException("no DERP here");
    }

    /// <summary>Two nodes and a relay on one hub, each node's peer configured with the other's endpoint and relay path.</summary>
    private sealed class Network : IAsyncDisposable
    {
        private Network(ManualTimeProvider clock, InMemoryUnderlayHub hub, HubRelay relay, TailnetServer a, TailnetServer b)
        {
            Clock = clock;
            Hub = hub;
            Relay = relay;
            A = a;
            B = b;
        }

        public ManualTimeProvider Clock { get; }

        public InMemoryUnderlayHub Hub { get; }

        public HubRelay Relay { get; }

        public TailnetServer A { get; }

        public TailnetServer B { get; }

        public static async Task<Network> StartAsync(bool blockDirect, CancellationToken cancellationToken)
        {
            var clock = new ManualTimeProvider();
            var hub = new InMemoryUnderlayHub(clock);
            var relay = new HubRelay(hub);
            var a = Node(clock, hub, AddressA);
            var b = Node(clock, hub, AddressB);
            var net = new Network(clock, hub, relay, a, b);
            await a.StartAsync(cancellationToken);
            await b.StartAsync(cancellationToken);
            if (blockDirect)
            {
                hub.Block(a.ListenPort, b.ListenPort);
            }

            var (toB, toA) = relay.Allocate(a.DiscoPublicKey, b.DiscoPublicKey);
            a.AddOrUpdatePeer(new TailnetPeer
            {
                PublicKey = b.PublicKey,
                Endpoint = "127.0.0.1:" + b.ListenPort,
                AllowedIps = { new IPNetwork(AddressB, 32) },
                Relay = toB,
            });
            b.AddOrUpdatePeer(new TailnetPeer
            {
                PublicKey = a.PublicKey,
                Endpoint = "127.0.0.1:" + a.ListenPort,
                AllowedIps = { new IPNetwork(AddressA, 32) },
                Relay = toA,
            });

            // Peers apply asynchronously, the relay binds on the node's clock, WireGuard retries every 5 s.
            for (var i = 0; ; i++)
            {
                try
                {
                    await clock.AdvanceUntilAsync(a.PingAsync(AddressB, TimeSpan.FromSeconds(2), cancellationToken).AsTask(), Step);
                    return net;
                }
                catch (TimeoutException) when (i < 15)
                {
                }
            }
        }

        private static TailnetServer Node(ManualTimeProvider clock, InMemoryUnderlayHub hub, IPAddress address) => new(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { new IPNetwork(address, 32) },
            TimeProvider = clock,
            TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub },
        });

        /// <summary>Pings both ways (data keeps heartbeats going) until both nodes show a path of <paramref name="kind"/>.</summary>
        public async Task UntilPathsAsync(string kind, CancellationToken cancellationToken)
        {
            for (var i = 0; i < 40; i++)
            {
                if (PathOf(A)?.StartsWith(kind + " ", StringComparison.Ordinal) == true && PathOf(B)?.StartsWith(kind + " ", StringComparison.Ordinal) == true)
                {
                    return;
                }

                await Clock.AdvanceUntilAsync(A.PingAsync(AddressB, TimeSpan.FromSeconds(5), cancellationToken).AsTask(), Step);
                await Clock.AdvanceUntilAsync(B.PingAsync(AddressA, TimeSpan.FromSeconds(5), cancellationToken).AsTask(), Step);
                var pause = Clock.GetTimestamp() + TimeSpan.FromSeconds(1).Ticks;
                await Clock.AdvanceUntilAsync(() => Clock.GetTimestamp() >= pause, Step);
            }

            throw new Xunit.Sdk.XunitException($"paths never became {kind}: A {PathOf(A)}, B {PathOf(B)}");
        }

        /// <summary>
        /// Uploads <paramref name="size"/> bytes from A to B and downloads as many back, byte-exact, on the manual clock;
        /// with <paramref name="cutAfter"/>, A writes that much, waits until B has read it, blocks the direct link and
        /// writes the rest on the same connection (a cut mid-transfer, whatever the machine's speed).
        /// </summary>
        public async Task TransferAsync(int size, int port, int? cutAfter, CancellationToken cancellationToken)
        {
            var upload = new byte[size];
            var download = new byte[size];
            new Random(port).NextBytes(upload);
            new Random(port + 1).NextBytes(download);
            long receivedByB = 0;
            var cutReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var listener = await B.ListenTcpAsync(port, cancellationToken);
            var serving = Task.Run(async () =>
            {
                await using var connection = await listener.AcceptAsync(cancellationToken) ?? throw new InvalidOperationException("listener closed");
                var writing = Task.Run(async () =>
                {
                    await connection.WriteAsync(download, cancellationToken);
                    await connection.ShutdownWriteAsync(cancellationToken);
                }, cancellationToken);
                var received = new MemoryStream();
                var buffer = new byte[16 * 1024];
                int read;
                while ((read = await connection.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    received.Write(buffer, 0, read);
                    if (Interlocked.Add(ref receivedByB, read) >= cutAfter)
                    {
                        cutReached.TrySetResult();
                    }
                }

                await writing;
                return received.ToArray();
            }, cancellationToken);

            var transfer = Task.Run(async () =>
            {
                await using var connection = await A.ConnectTcpAsync(new IPEndPoint(AddressB, port).ToString(), cancellationToken);
                var received = new MemoryStream();
                var reading = connection.CopyToAsync(received, cancellationToken);
                if (cutAfter is { } cut)
                {
                    await connection.WriteAsync(upload.AsMemory(0, cut), cancellationToken);
                    await cutReached.Task.WaitAsync(cancellationToken);
                    Hub.Block(A.ListenPort, B.ListenPort);
                    await connection.WriteAsync(upload.AsMemory(cut), cancellationToken);
                }
                else
                {
                    await connection.WriteAsync(upload, cancellationToken);
                }

                await connection.ShutdownWriteAsync(cancellationToken);
                await reading;
                return (Uploaded: await serving, Downloaded: received.ToArray());
            }, cancellationToken);

            var (uploaded, downloaded) = await Clock.AdvanceUntilAsync(transfer, Step, TimeSpan.FromSeconds(90));
            uploaded.Length.Should().Be(size);
            downloaded.Length.Should().Be(size);
            uploaded.AsSpan().SequenceEqual(upload).Should().BeTrue("the upload arrives byte-exact");
            downloaded.AsSpan().SequenceEqual(download).Should().BeTrue("the download arrives byte-exact");
        }

        public async ValueTask DisposeAsync()
        {
            await Clock.AdvanceUntilAsync(A.DisposeAsync().AsTask(), Step);
            await Clock.AdvanceUntilAsync(B.DisposeAsync().AsTask(), Step);
            await Relay.DisposeAsync();
            Hub.Dispose();
        }
    }
}
