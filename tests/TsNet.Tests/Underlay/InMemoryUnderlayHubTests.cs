using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.Tests.Netstack;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Underlay;

/// <summary>The hub's knobs really lose, reorder, delay and duplicate, reproducibly per seed and bounded.</summary>
public sealed class InMemoryUnderlayHubTests : IDisposable
{
    private const int Count = 2000;

    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryUnderlayHub _hub;
    private readonly PacketBufferPool _pool = new();
    private readonly Channel<UnderlayDatagram> _inboxA = Channel.CreateUnbounded<UnderlayDatagram>();
    private readonly Channel<UnderlayDatagram> _inboxB = Channel.CreateUnbounded<UnderlayDatagram>();
    private readonly InMemoryUnderlay _a;
    private readonly InMemoryUnderlay _b;

    public InMemoryUnderlayHubTests()
    {
        _hub = new InMemoryUnderlayHub(_clock, seed: 42);
        _a = _hub.Attach(0, _pool, _inboxA.Writer, _ => { });
        _b = _hub.Attach(0, _pool, _inboxB.Writer, _ => { });
    }

    public void Dispose() => _hub.Dispose();

    private UnderlayAddress AddressOfB => UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, _b.Port));

    private void SendNumbered(int count)
    {
        var datagram = new byte[100];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(datagram, i);
            _a.Send(AddressOfB, datagram);
        }
    }

    private List<int> ReceivedAtB()
    {
        var received = new List<int>();
        while (_inboxB.Reader.TryRead(out var datagram))
        {
            datagram.Source.Should().Be(UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, _a.Port)));
            received.Add(BinaryPrimitives.ReadInt32BigEndian(datagram.Buffer.Span));
            datagram.Buffer.Return();
        }

        return received;
    }

    [Fact]
    public void PerfectLink_DeliversEveryDatagram_InOrder_DuringTheSend()
    {
        SendNumbered(100);
        ReceivedAtB().Should().Equal(Enumerable.Range(0, 100));
        _hub.Delivered.Should().Be(100);
    }

    [Fact]
    public void Loss_DropsAboutTheConfiguredShare_AndCountsIt()
    {
        _hub.Link = new InMemoryLinkSettings { LossRate = 0.2 };
        SendNumbered(Count);
        var received = ReceivedAtB();
        received.Count.Should().BeInRange(1450, 1750);
        (received.Count + _hub.Lost).Should().Be(Count);
        received.Should().BeInAscendingOrder("loss alone does not reorder");
    }

    [Fact]
    public void Delay_HoldsDatagramsUntilTheClockReachesTheirTime()
    {
        _hub.Link = new InMemoryLinkSettings { Delay = TimeSpan.FromMilliseconds(50) };
        SendNumbered(10);
        ReceivedAtB().Should().BeEmpty();
        _hub.InFlight.Should().Be(10);
        _clock.Advance(TimeSpan.FromMilliseconds(49));
        ReceivedAtB().Should().BeEmpty("49 ms of a 50 ms delay have passed");
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        ReceivedAtB().Should().Equal(Enumerable.Range(0, 10));
        _hub.InFlight.Should().Be(0);
    }

    [Fact]
    public void Reorder_LetsLaterDatagramsOvertake_AndLosesNone()
    {
        _hub.Link = new InMemoryLinkSettings { ReorderRate = 0.1, ReorderDelay = TimeSpan.FromMilliseconds(5) };
        SendNumbered(Count);
        _clock.Advance(TimeSpan.FromMilliseconds(5));
        var received = ReceivedAtB();
        received.Order().Should().Equal(Enumerable.Range(0, Count), "every datagram arrives once");
        received.Should().NotBeInAscendingOrder();
        _hub.Reordered.Should().BeInRange(120, 280);
    }

    [Fact]
    public void Duplicate_DeliversSomeDatagramsTwice()
    {
        _hub.Link = new InMemoryLinkSettings { DuplicateRate = 0.05 };
        SendNumbered(Count);
        var received = ReceivedAtB();
        _hub.Duplicated.Should().BeInRange(50, 150);
        received.Count.Should().Be(Count + (int)_hub.Duplicated);
        received.Distinct().Should().HaveCount(Count);
    }

    [Fact]
    public void SameSeed_SameFate()
    {
        _hub.Link = new InMemoryLinkSettings { LossRate = 0.3 };
        SendNumbered(200);
        var first = ReceivedAtB();

        using var again = new InMemoryUnderlayHub(_clock, seed: 42) { Link = _hub.Link };
        var inbox = Channel.CreateUnbounded<UnderlayDatagram>();
        var sender = again.Attach(0, _pool, Channel.CreateUnbounded<UnderlayDatagram>().Writer, _ => { });
        var receiver = again.Attach(0, _pool, inbox.Writer, _ => { });
        var datagram = new byte[100];
        for (var i = 0; i < 200; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(datagram, i);
            sender.Send(UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, receiver.Port)), datagram);
        }

        var second = new List<int>();
        while (inbox.Reader.TryRead(out var d))
        {
            second.Add(BinaryPrimitives.ReadInt32BigEndian(d.Buffer.Span));
        }

        second.Should().Equal(first);
    }

    [Fact]
    public void InFlight_IsBounded_AndDatagramsToNoOneAreCounted()
    {
        _hub.Link = new InMemoryLinkSettings { Delay = TimeSpan.FromMilliseconds(10), MaxInFlight = 8 };
        SendNumbered(20);
        _hub.InFlight.Should().Be(8);
        _hub.Undeliverable.Should().Be(12);

        _a.Send(UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 1)), new byte[10]);
        _a.Send(UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.1"), _b.Port)), new byte[10]);
        _a.SendDrops.Should().Be(2);
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        ReceivedAtB().Should().Equal(Enumerable.Range(0, 8));
    }

    [Fact]
    public async Task Port_IsTakenUntilTheUnderlayIsDisposed_LikeAUdpBind()
    {
        var taken = () => _hub.Attach(_b.Port, _pool, _inboxA.Writer, _ => { });
        taken.Should().Throw<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
        await _b.DisposeAsync();
        _hub.Ports.Should().NotContain(_b.Port);
        await using var again = taken();
        again.Port.Should().Be(_b.Port);
    }
}
