using System.Net;
using TsNet.Services.Publishing;

namespace TsNet.Tests.Publishing;

/// <summary>The published-UDP session table on its own: no sockets, time passed in.</summary>
public sealed class UdpSessionTableTests
{
    private const long Second = 1000; // timestamp units per second in these tests

    private static readonly IPEndPoint ClientA = new(IPAddress.Loopback, 40001);
    private static readonly IPEndPoint ClientB = new(IPAddress.Loopback, 40002);
    private static readonly IPEndPoint ClientC = new(IPAddress.Parse("::1"), 40001);

    [Fact]
    public void TryAdd_RefusesAboveTheCap_UntilASessionIsRemoved()
    {
        var table = new UdpSessionTable<string>(maxSessions: 2, TimeSpan.FromSeconds(60), Second);

        table.TryAdd(ClientA, "a", now: 0).Should().BeTrue();
        table.TryAdd(ClientB, "b", now: 0).Should().BeTrue();
        table.HasRoom.Should().BeFalse();
        table.TryAdd(ClientC, "c", now: 0).Should().BeFalse("the table holds at most 2 sessions");
        table.Count.Should().Be(2);

        table.Remove(ClientA, "a").Should().BeTrue();
        table.TryAdd(ClientC, "c", now: 0).Should().BeTrue();
        table.TryGet(ClientC, now: 1, out var session).Should().BeTrue();
        session.Should().Be("c");
    }

    [Fact]
    public void TryAdd_RefusesASecondSessionForTheSameSender_AndRemoveChecksTheSession()
    {
        var table = new UdpSessionTable<string>(maxSessions: 10, TimeSpan.FromSeconds(60), Second);
        table.TryAdd(ClientA, "a", now: 0).Should().BeTrue();
        table.TryAdd(new IPEndPoint(IPAddress.Loopback, 40001), "a2", now: 0).Should().BeFalse("endpoints compare by value");
        table.Remove(ClientA, "a2").Should().BeFalse("only the session that is there is removed");
        table.Count.Should().Be(1);
    }

    [Fact]
    public void RemoveIdle_ExpiresAtTheIdleTime_CountingActivityInEitherDirection()
    {
        var table = new UdpSessionTable<string>(maxSessions: 10, TimeSpan.FromSeconds(60), Second);
        table.TryAdd(ClientA, "a", now: 0);
        table.TryAdd(ClientB, "b", now: 0);
        table.TryAdd(ClientC, "c", now: 0);

        table.TryGet(ClientB, now: 30 * Second, out _).Should().BeTrue(); // a datagram from the client
        table.Touch(ClientC, now: 50 * Second);                            // an answer to the client

        table.RemoveIdle(now: (60 * Second) - 1).Should().BeEmpty("nobody has been idle for 60 s yet");
        table.RemoveIdle(now: 60 * Second).Should().Equal("a");
        table.RemoveIdle(now: 89 * Second).Should().BeEmpty();
        table.RemoveIdle(now: 90 * Second).Should().Equal("b");
        table.RemoveIdle(now: 110 * Second).Should().Equal("c");
        table.Count.Should().Be(0);
        table.TryGet(ClientA, now: 111 * Second, out _).Should().BeFalse();
    }

    [Fact]
    public void Touch_NeverMovesActivityBackwards_AndIgnoresUnknownSenders()
    {
        var table = new UdpSessionTable<string>(maxSessions: 10, TimeSpan.FromSeconds(10), Second);
        table.TryAdd(ClientA, "a", now: 20 * Second);
        table.Touch(ClientA, now: 5 * Second); // a late answer stamped before the last datagram
        table.Touch(ClientB, now: 25 * Second);
        table.RemoveIdle(now: 29 * Second).Should().BeEmpty();
        table.RemoveIdle(now: 30 * Second).Should().Equal("a");
    }

    [Fact]
    public void RemoveAll_EmptiesTheTable()
    {
        var table = new UdpSessionTable<string>(maxSessions: 10, TimeSpan.FromSeconds(10), Second);
        table.TryAdd(ClientA, "a", now: 0);
        table.TryAdd(ClientB, "b", now: 0);
        table.RemoveAll().Should().BeEquivalentTo(["a", "b"]);
        table.Count.Should().Be(0);
        table.HasRoom.Should().BeTrue();
    }

    [Fact]
    public void Constructor_RejectsNonsense()
    {
        var zeroCap = () => new UdpSessionTable<string>(0, TimeSpan.FromSeconds(1), Second);
        zeroCap.Should().Throw<ArgumentOutOfRangeException>();
        var zeroIdle = () => new UdpSessionTable<string>(1, TimeSpan.Zero, Second);
        zeroIdle.Should().Throw<ArgumentOutOfRangeException>();
    }
}
