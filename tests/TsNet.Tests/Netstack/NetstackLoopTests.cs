using System.Net;
using System.Threading.Channels;
using TsNet.Netstack;
using TsNet.Packets;
using TsNet.Packets.Buffers;
using TsNet.Tests.Packets;

namespace TsNet.Tests.Netstack;

public sealed class NetstackLoopTests
{
    private static readonly IPAddress A4 = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress A6 = IPAddress.Parse("fd7a:115c:a1e0::1");
    private static readonly IPAddress B4 = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress B6 = IPAddress.Parse("fd7a:115c:a1e0::2");
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    private readonly PacketBufferPool _pool = new(maxPooled: 256);

    private static Channel<PacketBuffer> NewChannel(int capacity = 1024) => Channel.CreateBounded<PacketBuffer>(capacity);

    private NetstackLoop NewLoop(IPAddress[] addresses, Channel<PacketBuffer> fromWireGuard, Channel<PacketBuffer> toWireGuard, TimeProvider? time = null) =>
        new(new NetstackOptions { Addresses = addresses, Pool = _pool, TimestampFrequency = TimeSpan.TicksPerSecond }, fromWireGuard.Reader, toWireGuard.Writer, time ?? TimeProvider.System);

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
    public async Task TwoLoops_BackToBack_PingEachOther()
    {
        var aToB = NewChannel();
        var bToA = NewChannel();
        await using var a = NewLoop([A4, A6], fromWireGuard: bToA, toWireGuard: aToB);
        await using var b = NewLoop([B4, B6], fromWireGuard: aToB, toWireGuard: bToA);
        a.Start();
        b.Start();

        var rtt4 = await a.PingAsync(B4, TestTimeout);
        var rtt6 = await b.PingAsync(A6, TestTimeout);
        rtt4.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero).And.BeLessThan(TestTimeout);
        rtt6.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero).And.BeLessThan(TestTimeout);

        // Many at once, both families, both directions.
        var pings = Enumerable.Range(0, 50)
            .Select(i => (i % 2 == 0 ? a.PingAsync(i % 4 == 0 ? B4 : B6, TestTimeout) : b.PingAsync(i % 4 == 1 ? A4 : A6, TestTimeout)).AsTask())
            .ToArray();
        var all = await Task.WhenAll(pings);
        all.Should().AllSatisfy(rtt => rtt.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero));

        a.Counters.EchoRepliesReceived.Should().Be(26);
        b.Counters.EchoRequestsAnswered.Should().Be(26);
        b.Counters.EchoRepliesReceived.Should().Be(26);
        a.Counters.TotalDropped.Should().Be(0);
        b.Counters.TotalDropped.Should().Be(0);
        a.PingIdentifier.Should().NotBe(b.PingIdentifier);
    }

    [Fact]
    public async Task Ping_WithoutReply_TimesOut_AndALateReplyIsUnmatched()
    {
        var time = new ManualTimeProvider();
        var fromWireGuard = NewChannel();
        var toWireGuard = NewChannel();
        await using var loop = NewLoop([A4], fromWireGuard, toWireGuard, time);
        loop.Start();

        var ping = loop.PingAsync(B4, TimeSpan.FromSeconds(2)).AsTask();
        var request = await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        ping.IsCompleted.Should().BeFalse();

        time.Advance(TimeSpan.FromSeconds(1));
        ping.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));
        await FluentActions.Awaiting(() => ping.WaitAsync(TestTimeout)).Should().ThrowAsync<TimeoutException>();

        // The reply arrives after all: the ping was forgotten, so it is counted as unmatched.
        Ipv4Packet.TryCreate(request.Span, out var ip).Should().BeTrue();
        Icmpv4Packet.TryCreate(ip.Payload, out var icmp).Should().BeTrue();
        var reply = _pool.Rent();
        int length = IcmpEchoBuilder.WriteIpv4(
            reply.Append(request.Length), ip.DestinationValue, ip.SourceValue, Icmpv4Type.EchoReply, icmp.Identifier, icmp.SequenceNumber, icmp.Payload);
        reply.SetLength(length);
        request.Return();
        await WaitUntil(() => loop.Counters.OutboundPackets == 1);
        (await fromWireGuard.Writer.WaitToWriteAsync()).Should().BeTrue();
        fromWireGuard.Writer.TryWrite(reply).Should().BeTrue();
        await WaitUntil(() => loop.Counters.Dropped(NetstackDropReason.UnmatchedEchoReply) == 1);
    }

    [Fact]
    public async Task Ping_Reply_UsesFakeClockForRoundTripTime()
    {
        var time = new ManualTimeProvider();
        var fromWireGuard = NewChannel();
        var toWireGuard = NewChannel();
        await using var loop = NewLoop([A4], fromWireGuard, toWireGuard, time);
        loop.Start();

        var ping = loop.PingAsync(B4, TimeSpan.FromSeconds(5)).AsTask();
        var request = await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        time.Advance(TimeSpan.FromMilliseconds(30));

        // Answer it with a B-side core, as a peer would.
        var peer = new NetstackCore(new NetstackOptions { Addresses = [B4], Pool = _pool });
        peer.ProcessInbound(request, 0);
        peer.TryDequeueOutbound(out var reply).Should().BeTrue();
        fromWireGuard.Writer.TryWrite(reply).Should().BeTrue();

        (await ping.WaitAsync(TestTimeout)).Should().Be(TimeSpan.FromMilliseconds(30));
    }

    [Fact]
    public async Task Ping_Cancelled_ThrowsOperationCanceled()
    {
        var toWireGuard = NewChannel();
        await using var loop = NewLoop([A4], NewChannel(), toWireGuard);
        loop.Start();
        using var cts = new CancellationTokenSource();
        var ping = loop.PingAsync(B4, TestTimeout, cts.Token).AsTask();
        await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await cts.CancelAsync();
        await FluentActions.Awaiting(() => ping.WaitAsync(TestTimeout)).Should().ThrowAsync<OperationCanceledException>();

        await FluentActions.Awaiting(async () => await loop.PingAsync(B4, TestTimeout, cts.Token))
            .Should().ThrowAsync<OperationCanceledException>("an already-cancelled token fails at once");
    }

    [Fact]
    public async Task Ping_WithoutLocalAddressOfThatFamily_Fails()
    {
        await using var loop = NewLoop([A4], NewChannel(), NewChannel());
        loop.Start();
        await FluentActions.Awaiting(async () => await loop.PingAsync(B6, TestTimeout))
            .Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task Dispose_FaultsPendingPings_EndsTheTask_AndIsIdempotent()
    {
        var toWireGuard = NewChannel();
        var loop = NewLoop([A4, A6], NewChannel(), toWireGuard);
        loop.Start();
        var ping4 = loop.PingAsync(B4, Timeout.InfiniteTimeSpan).AsTask();
        var ping6 = loop.PingAsync(B6, TestTimeout).AsTask();
        (await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout)).Return();
        (await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout)).Return();

        await loop.DisposeAsync();

        loop.Completion.IsCompleted.Should().BeTrue();
        await FluentActions.Awaiting(() => ping4.WaitAsync(TestTimeout)).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(() => ping6.WaitAsync(TestTimeout)).Should().ThrowAsync<ObjectDisposedException>();
        await loop.DisposeAsync();
        await FluentActions.Awaiting(async () => await loop.PingAsync(B4, TestTimeout)).Should().ThrowAsync<ObjectDisposedException>();
        FluentActions.Invoking(loop.Start).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public async Task Dispose_BeforeStart_FaultsQueuedPings()
    {
        var loop = NewLoop([A4], NewChannel(), NewChannel());
        var ping = loop.PingAsync(B4, TestTimeout).AsTask();
        await loop.DisposeAsync();
        await FluentActions.Awaiting(() => ping.WaitAsync(TestTimeout)).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task Dispose_ReturnsEveryBufferItHolds()
    {
        var pool = new PacketBufferPool(maxPooled: 16);
        var fromWireGuard = NewChannel();
        var loop = new NetstackLoop(new NetstackOptions { Addresses = [A4], Pool = pool, TimestampFrequency = TimeSpan.TicksPerSecond }, fromWireGuard.Reader, NewChannel().Writer, TimeProvider.System);
        var given = new HashSet<PacketBuffer>();
        for (int i = 0; i < 3; i++)
        {
            var buffer = pool.Rent();
            given.Add(buffer);
            fromWireGuard.Writer.TryWrite(buffer).Should().BeTrue();
        }

        await loop.DisposeAsync();

        fromWireGuard.Reader.Count.Should().Be(0);
        var rented = Enumerable.Range(0, 3).Select(_ => pool.Rent()).ToHashSet();
        rented.SetEquals(given).Should().BeTrue("the pool hands back exactly the buffers the loop returned");
    }

    [Fact]
    public async Task FullToWireGuardChannel_KeepsPacketsInOrder_NeverBlocks()
    {
        var fromWireGuard = NewChannel();
        var toWireGuard = NewChannel(capacity: 1);
        await using var loop = NewLoop([B4], fromWireGuard, toWireGuard);
        loop.Start();
        for (int i = 0; i < 3; i++)
        {
            var request = _pool.Rent();
            PacketFixtures.Ipv4EchoRequest.CopyTo(request.Append(PacketFixtures.Ipv4EchoRequest.Length));
            fromWireGuard.Writer.TryWrite(request).Should().BeTrue();
        }

        // The first answer fills the channel; the loop holds the rest (bounded by its outbound queue) instead of
        // dropping them, and hands them on as the dataplane makes room.
        for (int i = 0; i < 3; i++)
        {
            (await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout)).Return();
        }

        loop.Counters.EchoRequestsAnswered.Should().Be(3);
        loop.Counters.Dropped(NetstackDropReason.ToWireGuardFull).Should().Be(0);

        // The loop is still alive.
        var another = _pool.Rent();
        PacketFixtures.Ipv4EchoRequest.CopyTo(another.Append(PacketFixtures.Ipv4EchoRequest.Length));
        fromWireGuard.Writer.TryWrite(another).Should().BeTrue();
        (await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout)).Span.ToArray().Should().HaveCount(PacketFixtures.Ipv4EchoRequest.Length);
    }

    [Fact]
    public async Task CompletedInboundChannel_DoesNotStopCommands()
    {
        var fromWireGuard = NewChannel();
        var toWireGuard = NewChannel();
        await using var loop = NewLoop([A4], fromWireGuard, toWireGuard);
        loop.Start();
        fromWireGuard.Writer.Complete();
        var ping = loop.PingAsync(B4, TestTimeout).AsTask();
        (await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout)).Return();
        ping.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Start_Twice_Throws()
    {
        await using var loop = NewLoop([A4], NewChannel(), NewChannel());
        loop.Start();
        FluentActions.Invoking(loop.Start).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task LoopFailure_FaultsPendingPings_AndDisposeStillWorks()
    {
        var reader = new FailingReader();
        var toWireGuard = NewChannel();
        var loop = new NetstackLoop(new NetstackOptions { Addresses = [A4], Pool = _pool, TimestampFrequency = TimeSpan.TicksPerSecond }, reader, toWireGuard.Writer, TimeProvider.System);
        loop.Start();
        var ping = loop.PingAsync(B4, TestTimeout).AsTask();
        (await toWireGuard.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout)).Return();

        reader.Break();

        (await FluentActions.Awaiting(() => ping.WaitAsync(TestTimeout)).Should().ThrowAsync<InvalidOperationException>())
            .WithInnerException<InvalidDataException>();
        await FluentActions.Awaiting(async () => await loop.PingAsync(B4, TestTimeout)).Should().ThrowAsync<InvalidOperationException>();
        await loop.DisposeAsync().AsTask().WaitAsync(TestTimeout);
        loop.Completion.IsCompleted.Should().BeTrue();
    }

    /// <summary>A dataplane channel that throws once broken, standing in for a bug inside the loop.</summary>
    private sealed class FailingReader : ChannelReader<PacketBuffer>
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

            // Throws once, then behaves like an empty channel (DisposeAsync drains it).
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
