using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using TsNet.Netstack;
using TsNet.Packets.Buffers;

namespace TsNet.Tests.Netstack;

/// <summary>UDP sockets through <see cref="NetstackLoop"/>: two loops wired back to back with channels.</summary>
public sealed class UdpLoopTests
{
    private static readonly IPAddress A4 = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress A6 = IPAddress.Parse("fd7a:115c:a1e0::1");
    private static readonly IPAddress B4 = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress B6 = IPAddress.Parse("fd7a:115c:a1e0::2");
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private readonly PacketBufferPool _pool = new(maxPooled: 1024);

    private NetstackLoop NewLoop(IPAddress[] addresses, Channel<PacketBuffer> fromWireGuard, Channel<PacketBuffer> toWireGuard, UdpOptions? udp = null) =>
        new(new NetstackOptions { Addresses = addresses, Pool = _pool, Udp = udp ?? new UdpOptions(), TimestampFrequency = TimeSpan.TicksPerSecond }, fromWireGuard.Reader, toWireGuard.Writer, TimeProvider.System);

    private (NetstackLoop A, NetstackLoop B) StartPair(UdpOptions? udp = null)
    {
        var aToB = Channel.CreateBounded<PacketBuffer>(1024);
        var bToA = Channel.CreateBounded<PacketBuffer>(1024);
        var a = NewLoop([A4, A6], fromWireGuard: bToA, toWireGuard: aToB, udp);
        var b = NewLoop([B4, B6], fromWireGuard: aToB, toWireGuard: bToA, udp);
        a.Start();
        b.Start();
        return (a, b);
    }

    private static async Task<(string Text, IPEndPoint From)> ReceiveTextAsync(UdpSocketHandle socket, int bufferSize = 2048)
    {
        var buffer = new byte[bufferSize];
        var result = await socket.ReceiveFromAsync(buffer).AsTask().WaitAsync(TestTimeout);
        return (System.Text.Encoding.UTF8.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TestTimeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not met in time.");
            }

            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task Echo_BothDirections_OverIpv4AndIpv6()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var server = await b.BindUdpAsync(null, 7);
            await using var client = await a.BindUdpAsync(null, 0);
            client.LocalPort.Should().BeInRange(49152, 65535);
            client.LocalAddress.Should().BeNull();

            foreach (var (to, from) in new[] { (B4, A4), (B6, A6) })
            {
                (await client.SendToAsync("ping"u8.ToArray(), new IPEndPoint(to, 7))).Should().Be(4);
                var (text, sender) = await ReceiveTextAsync(server);
                text.Should().Be("ping");
                sender.Should().Be(new IPEndPoint(from, client.LocalPort));

                await server.SendToAsync("pong"u8.ToArray(), sender);
                var (reply, replier) = await ReceiveTextAsync(client);
                reply.Should().Be("pong");
                replier.Should().Be(new IPEndPoint(to, 7));
            }

            a.UdpCounters.DatagramsSent.Should().Be(2);
            a.UdpCounters.DatagramsReceived.Should().Be(2);
            b.Counters.TotalDropped.Should().Be(0);
        }
    }

    [Fact]
    public async Task ManyDatagrams_ArriveInOrder()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var server = await b.BindUdpAsync(null, 7);
            await using var client = await a.BindUdpAsync(null, 0);
            const int Count = 300;
            var sending = Task.Run(async () =>
            {
                for (int i = 0; i < Count; i++)
                {
                    await client.SendToAsync(BitConverter.GetBytes(i), new IPEndPoint(B4, 7));
                }
            });

            var buffer = new byte[4];
            for (int i = 0; i < Count; i++)
            {
                var result = await server.ReceiveFromAsync(buffer).AsTask().WaitAsync(TestTimeout);
                result.ReceivedBytes.Should().Be(4);
                BitConverter.ToInt32(buffer).Should().Be(i);
            }

            await sending;
        }
    }

    [Fact]
    public async Task Receive_TruncatesLikeLinux_AndAnEmptyBufferPeeks()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var server = await b.BindUdpAsync(null, 7);
            await using var client = await a.BindUdpAsync(null, 0);

            var peek = server.ReceiveFromAsync(Memory<byte>.Empty).AsTask();
            await client.SendToAsync("0123456789"u8.ToArray(), new IPEndPoint(B4, 7));
            var peeked = await peek.WaitAsync(TestTimeout);
            peeked.ReceivedBytes.Should().Be(0);
            peeked.RemoteEndPoint.Should().Be(new IPEndPoint(A4, client.LocalPort));

            // The peek left the datagram queued; a small buffer gets its start and the rest is gone.
            var (text, _) = await ReceiveTextAsync(server, bufferSize: 4);
            text.Should().Be("0123");

            await client.SendToAsync("next"u8.ToArray(), new IPEndPoint(B4, 7));
            (await ReceiveTextAsync(server)).Text.Should().Be("next");
        }
    }

    [Fact]
    public async Task CancelledReceive_LosesNoDatagram()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var server = await b.BindUdpAsync(null, 7);
            await using var client = await a.BindUdpAsync(null, 0);

            using (var cts = new CancellationTokenSource())
            {
                var pending = server.ReceiveFromAsync(new byte[16], cts.Token).AsTask();
                await cts.CancelAsync();
                await FluentActions.Awaiting(() => pending).Should().ThrowAsync<OperationCanceledException>();
            }

            await client.SendToAsync("kept"u8.ToArray(), new IPEndPoint(B4, 7));
            (await ReceiveTextAsync(server)).Text.Should().Be("kept");

            // Cancellation racing with arrivals: every datagram is received exactly once.
            const int Count = 200;
            var sending = Task.Run(async () =>
            {
                for (int i = 0; i < Count; i++)
                {
                    await client.SendToAsync(BitConverter.GetBytes(i), new IPEndPoint(B6, 7));
                    if (i % 16 == 0)
                    {
                        await Task.Yield();
                    }
                }
            });

            var received = new List<int>();
            var buffer = new byte[4];
            using var overall = new CancellationTokenSource(TestTimeout);
            while (received.Count < Count)
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
                cts.CancelAfter(TimeSpan.FromTicks(Random.Shared.Next(0, 20_000)));
                try
                {
                    var result = await server.ReceiveFromAsync(buffer, cts.Token);
                    received.Add(BitConverter.ToInt32(buffer));
                }
                catch (OperationCanceledException) when (!overall.IsCancellationRequested)
                {
                }
            }

            await sending;
            received.Should().Equal(Enumerable.Range(0, Count));
        }
    }

    [Fact]
    public async Task Dispose_FailsPendingReceives_IsIdempotent_AndFreesThePort()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            var socket = await b.BindUdpAsync(null, 7);
            var pending = socket.ReceiveFromAsync(new byte[16]).AsTask();
            var peek = socket.ReceiveFromAsync(Memory<byte>.Empty).AsTask();

            await socket.DisposeAsync();
            await socket.DisposeAsync();
            await Task.WhenAll(socket.DisposeAsync().AsTask(), socket.DisposeAsync().AsTask());

            await FluentActions.Awaiting(() => pending.WaitAsync(TestTimeout)).Should().ThrowAsync<ObjectDisposedException>();
            await FluentActions.Awaiting(() => peek.WaitAsync(TestTimeout)).Should().ThrowAsync<ObjectDisposedException>();
            await FluentActions.Awaiting(async () => await socket.ReceiveFromAsync(new byte[16])).Should().ThrowAsync<ObjectDisposedException>();
            await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(A4, 9))).Should().ThrowAsync<ObjectDisposedException>();

            // The port is free as soon as DisposeAsync completed.
            await using var again = await b.BindUdpAsync(null, 7);
            again.LocalPort.Should().Be(7);
        }
    }

    [Fact]
    public async Task DuplicateBind_IsAddressInUse()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var first = await b.BindUdpAsync(null, 5353);
            var error = await FluentActions.Awaiting(async () => await b.BindUdpAsync(null, 5353)).Should().ThrowAsync<SocketException>();
            error.Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
            error.Which.Message.Should().Contain("5353");

            var notOurs = await FluentActions.Awaiting(async () => await b.BindUdpAsync(A4, 5354)).Should().ThrowAsync<SocketException>();
            notOurs.Which.SocketErrorCode.Should().Be(SocketError.AddressNotAvailable);

            await using var specific = await b.BindUdpAsync(B6, 5354);
            specific.LocalAddress.Should().Be(B6);
        }
    }

    [Fact]
    public async Task PortZero_ExhaustedRange_IsAddressInUse()
    {
        var (a, b) = StartPair(new UdpOptions { EphemeralFirstPort = 50000, EphemeralLastPort = 50001 });
        await using (a)
        await using (b)
        {
            await using var one = await b.BindUdpAsync(null, 0);
            await using var two = await b.BindUdpAsync(null, 0);
            new[] { one.LocalPort, two.LocalPort }.Should().BeEquivalentTo([50000, 50001]);
            (await FluentActions.Awaiting(async () => await b.BindUdpAsync(null, 0)).Should().ThrowAsync<SocketException>())
                .Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
        }
    }

    [Fact]
    public async Task Bind_Cancelled_LeavesNothingBound()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            using var cts = new CancellationTokenSource();
            await cts.CancelAsync();
            await FluentActions.Awaiting(async () => await b.BindUdpAsync(null, 7, cts.Token)).Should().ThrowAsync<OperationCanceledException>();
            await using var socket = await b.BindUdpAsync(null, 7);
            socket.LocalPort.Should().Be(7);
        }
    }

    [Fact]
    public async Task Bind_CancelledAtAnyMoment_LeavesNothingBound()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            int bound = 0;
            for (int i = 0; i < 300; i++)
            {
                using var cts = new CancellationTokenSource();
                cts.CancelAfter(TimeSpan.FromTicks(Random.Shared.Next(0, 2_000)));
                try
                {
                    await using var socket = await b.BindUdpAsync(null, 7, cts.Token);
                    bound++;
                }
                catch (OperationCanceledException)
                {
                }
            }

            await using var last = await b.BindUdpAsync(null, 7).AsTask().WaitAsync(TestTimeout);
            last.LocalPort.Should().Be(7, $"none of the {300 - bound} cancelled binds may hold the port");
        }
    }

    [Fact]
    public async Task Send_Validation()
    {
        var aToB = Channel.CreateBounded<PacketBuffer>(16);
        await using var loop = NewLoop([A4], Channel.CreateBounded<PacketBuffer>(16), aToB);
        loop.Start();
        await using var socket = await loop.BindUdpAsync(null, 0);

        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1253], new IPEndPoint(B4, 9))).Should().ThrowAsync<ArgumentException>();
        (await socket.SendToAsync(new byte[1252], new IPEndPoint(B4, 9))).Should().Be(1252);
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(B4, 0))).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(IPAddress.Any, 9))).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], null!)).Should().ThrowAsync<ArgumentNullException>();
        (await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(B6, 9))).Should().ThrowAsync<SocketException>())
            .Which.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(B4, 9), cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();

        var sent = await aToB.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        sent.Length.Should().Be(1280);
        sent.Return();
        aToB.Reader.TryRead(out _).Should().BeFalse("only the valid datagram went out");
    }

    [Fact]
    public async Task ClosedPort_TheSenderLoopCountsThePortUnreachable()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var client = await a.BindUdpAsync(null, 0);
            await client.SendToAsync("anyone?"u8.ToArray(), new IPEndPoint(B4, 9999));
            await client.SendToAsync("anyone?"u8.ToArray(), new IPEndPoint(B6, 9999));
            await WaitUntil(() => a.IcmpErrorCounters.PortUnreachableReceived == 2);
            client.State.PortUnreachableReceived.Should().Be(2);
            b.IcmpErrorCounters.DestinationUnreachableSent.Should().Be(2);

            // The socket keeps working.
            await using var server = await b.BindUdpAsync(null, 9999);
            await client.SendToAsync("now"u8.ToArray(), new IPEndPoint(B4, 9999));
            (await ReceiveTextAsync(server)).Text.Should().Be("now");
        }
    }

    [Fact]
    public async Task LoopDispose_ClosesItsSockets()
    {
        var (a, b) = StartPair();
        await using (a)
        {
            var socket = await b.BindUdpAsync(null, 7);
            var pending = socket.ReceiveFromAsync(new byte[16]).AsTask();
            await b.DisposeAsync();
            await FluentActions.Awaiting(() => pending.WaitAsync(TestTimeout)).Should().ThrowAsync<ObjectDisposedException>();
            await FluentActions.Awaiting(async () => await socket.ReceiveFromAsync(new byte[16])).Should().ThrowAsync<ObjectDisposedException>();
            await FluentActions.Awaiting(async () => await socket.SendToAsync(new byte[1], new IPEndPoint(A4, 9))).Should().ThrowAsync<ObjectDisposedException>();
            await socket.DisposeAsync().AsTask().WaitAsync(TestTimeout);
            await FluentActions.Awaiting(async () => await b.BindUdpAsync(null, 8)).Should().ThrowAsync<ObjectDisposedException>();
        }
    }

    [Fact]
    public async Task Receive_OfQueuedDatagrams_DoesNotAllocate()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var server = await b.BindUdpAsync(null, 7);
            await using var client = await a.BindUdpAsync(null, 0);
            const int Count = 100;
            for (int i = 0; i < Count; i++)
            {
                await client.SendToAsync(new byte[64], new IPEndPoint(B4, 7));
            }

            await WaitUntil(() => server.State.DatagramsReceived == Count);
            var first = await server.ReceiveFromAsync(new byte[128]); // warms the endpoint cache
            long allocated = MeasureSynchronousReceives(server, Count - 1, first.RemoteEndPoint);
            allocated.Should().Be(0);
        }
    }

    /// <summary>Bytes allocated on this thread by <paramref name="count"/> receives that must complete synchronously.</summary>
    private static long MeasureSynchronousReceives(UdpSocketHandle socket, int count, EndPoint expected)
    {
        var buffer = new byte[128];
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            var pending = socket.ReceiveFromAsync(buffer);
            if (!pending.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("A queued datagram should be received synchronously.");
            }

            if (!ReferenceEquals(pending.Result.RemoteEndPoint, expected))
            {
                throw new InvalidOperationException("The endpoint of a known remote should come from the cache.");
            }
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public async Task CachedEndpoint_ChangedByTheCaller_IsReplaced()
    {
        var (a, b) = StartPair();
        await using (a)
        await using (b)
        {
            await using var server = await b.BindUdpAsync(null, 7);
            await using var client = await a.BindUdpAsync(null, 0);
            await client.SendToAsync(new byte[1], new IPEndPoint(B4, 7));
            await client.SendToAsync(new byte[1], new IPEndPoint(B4, 7));
            var first = (IPEndPoint)(await server.ReceiveFromAsync(new byte[4])).RemoteEndPoint;
            first.Port = 1;
            var second = (IPEndPoint)(await server.ReceiveFromAsync(new byte[4]).AsTask().WaitAsync(TestTimeout)).RemoteEndPoint;
            second.Should().NotBeSameAs(first);
            second.Should().Be(new IPEndPoint(A4, client.LocalPort));
        }
    }

    [Fact]
    public async Task LoopFailure_FailsPendingReceives_AndDisposeStillWorks()
    {
        var reader = new BreakableReader();
        var loop = new NetstackLoop(new NetstackOptions { Addresses = [A4], Pool = _pool, TimestampFrequency = TimeSpan.TicksPerSecond }, reader, Channel.CreateBounded<PacketBuffer>(16).Writer, TimeProvider.System);
        loop.Start();
        var socket = await loop.BindUdpAsync(null, 7);
        var pending = socket.ReceiveFromAsync(new byte[16]).AsTask();

        reader.Break();

        (await FluentActions.Awaiting(() => pending.WaitAsync(TestTimeout)).Should().ThrowAsync<InvalidOperationException>())
            .WithInnerException<InvalidDataException>();
        await FluentActions.Awaiting(async () => await socket.ReceiveFromAsync(new byte[16])).Should().ThrowAsync<InvalidOperationException>();
        await socket.DisposeAsync().AsTask().WaitAsync(TestTimeout);
        await FluentActions.Awaiting(async () => await socket.ReceiveFromAsync(new byte[16])).Should().ThrowAsync<ObjectDisposedException>();
        await loop.DisposeAsync().AsTask().WaitAsync(TestTimeout);
    }

    /// <summary>A dataplane channel that throws once broken, standing in for a bug inside the loop.</summary>
    private sealed class BreakableReader : ChannelReader<PacketBuffer>
    {
        private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _broken;

        public void Break()
        {
            _broken = true;
            _ready.TrySetResult(true);
        }

        public override bool TryRead(out PacketBuffer item)
        {
            item = null!;
            if (_broken)
            {
                _broken = false;
                throw new InvalidDataException("broken");
            }

            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            new(_ready.Task.WaitAsync(cancellationToken));
    }
}
