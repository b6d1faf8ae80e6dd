using System.Buffers;
using System.Net;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Sockets;

/// <summary>
/// Guards the goal "an idle TCP connection costs at most 2 KiB per end" (issue 13) where it can be measured
/// deterministically: the bytes allocated for the objects one end keeps for its whole life (the TCB with its inline
/// helpers, RACK and CUBIC, the netstack's socket, the app hand-off with its two lean pipes, the app's
/// <see cref="TailnetConnection"/>), and that a one-byte exchange each way leaves no array behind. The
/// <c>idle-connections</c> benchmark measures the whole (about 1.8 KB per end, with the connection table's entry).
/// </summary>
public sealed class IdleConnectionMemoryTests
{
    /// <summary>
    /// The objects measured here come to about 1.6 KB on .NET 10 x64; the bound leaves room for the connection
    /// table's entry and the timer queue under the 2 KiB goal. A regression past it means a new per-connection object
    /// or field worth a look.
    /// </summary>
    private const long MaxRetainedBytesPerEnd = 1700;

    private static readonly TcpEndpoints Endpoints = new(TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.1")), 41000, TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.2")), 80);

    [Fact]
    public void One_connection_end_allocates_at_most_the_bound_for_what_it_keeps()
    {
        _ = CreateEnd(); // first use: static state and type loading are not per connection

        var before = GC.GetAllocatedBytesForCurrentThread();
        var end = CreateEnd();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        GC.KeepAlive(end);
        allocated.Should().BeLessThanOrEqualTo(MaxRetainedBytesPerEnd);
    }

    [Fact]
    public async Task A_one_byte_exchange_each_way_leaves_no_array_in_either_pipe()
    {
        var channel = new TcpStreamChannel(Connection(), _ => { });
        await using var stream = new TailnetConnection(channel);

        channel.Receive.GetWriteSpan(1)[0] = 42;
        channel.Receive.CommitWrite(1);
        channel.Receive.Publish();
        var one = new byte[1];
        (await stream.ReadAsync(one)).Should().Be(1);
        one[0].Should().Be(42);

        await stream.WriteAsync(new byte[] { 7 });
        channel.Send.TryPeek(out var bytes, out _).Should().BeTrue();
        bytes.ToArray().Should().Equal(7);
        channel.Send.Consume(1);

        channel.Receive.HoldsArray.Should().BeFalse();
        channel.Send.HoldsArray.Should().BeFalse();
    }

    private static (TcpSocket Socket, TailnetConnection Stream) CreateEnd()
    {
        var socket = new TcpSocket(Connection(), listener: null);
        var channel = new TcpStreamChannel(socket.Connection, _ => { }) { Owner = socket };
        socket.Channel = channel;
        return (socket, new TailnetConnection(channel));
    }

    private static TcpConnection Connection() => TcpConnection.Connect(Endpoints, TcpConfig.Default, new SeqNum(1), 0);
}
