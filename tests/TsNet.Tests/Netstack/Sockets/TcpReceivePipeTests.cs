using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Sockets;

/// <summary>
/// The lean receive pipe behaves as the <see cref="Pipe"/> it replaced where the app can tell: examined bytes make the
/// next read wait, a writer's error is thrown by every read, cancellation works both ways, consumption is reported
/// to the channel, and an emptied pipe holds no array.
/// </summary>
public sealed class TcpReceivePipeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Bytes_reach_the_reader_only_when_published_and_the_array_goes_back_once_read()
    {
        var (channel, pipe) = Create();
        Write(pipe, [1, 2, 3]);
        pipe.TryRead(out _).Should().BeFalse("committed bytes are invisible until published");

        pipe.Publish().Should().BeTrue();
        var result = await pipe.ReadAsync();
        result.Buffer.ToArray().Should().Equal(1, 2, 3);
        pipe.AdvanceTo(result.Buffer.GetPosition(2));
        channel.ConsumedByApp.Should().Be(2);
        pipe.HoldsArray.Should().BeTrue("one byte is still unread");

        result = await pipe.ReadAsync();
        result.Buffer.ToArray().Should().Equal(3);
        pipe.AdvanceTo(result.Buffer.End);
        channel.ConsumedByApp.Should().Be(3);
        pipe.HoldsArray.Should().BeFalse("an empty pipe returns its array");
    }

    [Fact]
    public async Task Examining_everything_makes_the_next_read_wait_for_new_bytes()
    {
        var (_, pipe) = Create();
        Write(pipe, [1, 2]);
        pipe.Publish();
        var first = await pipe.ReadAsync();
        pipe.AdvanceTo(first.Buffer.Start, first.Buffer.End);

        var waiting = pipe.ReadAsync().AsTask();
        waiting.IsCompleted.Should().BeFalse();
        Write(pipe, [3]);
        pipe.Publish();

        var second = await waiting.WaitAsync(Bound);
        second.Buffer.ToArray().Should().Equal(1, 2, 3);
        pipe.AdvanceTo(second.Buffer.End);
    }

    [Fact]
    public async Task Examining_less_than_everything_lets_the_next_read_return_at_once()
    {
        var (_, pipe) = Create();
        Write(pipe, [1, 2]);
        pipe.Publish();
        var first = await pipe.ReadAsync();
        pipe.AdvanceTo(first.Buffer.Start, first.Buffer.GetPosition(1));

        var again = pipe.ReadAsync();
        again.IsCompleted.Should().BeTrue();
        (await again).Buffer.Length.Should().Be(2);
    }

    [Fact]
    public async Task A_writer_error_is_thrown_by_every_read_even_with_bytes_pending()
    {
        var (_, pipe) = Create();
        Write(pipe, [1]);
        pipe.Publish();
        var before = await pipe.ReadAsync();
        pipe.AdvanceTo(before.Buffer.Start, before.Buffer.End);
        var waiting = pipe.ReadAsync().AsTask();

        pipe.CompleteWriter(new SocketException((int)SocketError.ConnectionReset));

        (await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        FluentActions.Invoking(() => pipe.TryRead(out _)).Should().Throw<SocketException>();
    }

    [Fact]
    public async Task The_end_of_the_stream_completes_reads_with_the_remaining_bytes()
    {
        var (_, pipe) = Create();
        var waiting = pipe.ReadAsync().AsTask();
        Write(pipe, [7]);
        pipe.CompleteWriter();

        var result = await waiting.WaitAsync(Bound);
        result.IsCompleted.Should().BeTrue();
        result.Buffer.ToArray().Should().Equal(7);
        pipe.AdvanceTo(result.Buffer.End);
        (await pipe.ReadAsync()).IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task CancelPendingRead_and_the_token_cancel_a_waiting_read()
    {
        var (_, pipe) = Create();
        var waiting = pipe.ReadAsync().AsTask();
        pipe.CancelPendingRead();
        (await waiting.WaitAsync(Bound)).IsCanceled.Should().BeTrue();

        pipe.CancelPendingRead(); // with no read waiting: the next one returns canceled at once
        (await pipe.ReadAsync()).IsCanceled.Should().BeTrue();

        using var cts = new CancellationTokenSource();
        var tokenWaiting = pipe.ReadAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await FluentActions.Awaiting(() => tokenWaiting.WaitAsync(Bound)).Should().ThrowAsync<OperationCanceledException>();

        // The pipe still works afterwards.
        Write(pipe, [5]);
        pipe.Publish();
        (await pipe.ReadAsync().AsTask().WaitAsync(Bound)).Buffer.ToArray().Should().Equal(5);
    }

    [Fact]
    public async Task A_reader_that_completed_makes_publishing_fail_and_drops_the_bytes()
    {
        var (_, pipe) = Create();
        Write(pipe, [1, 2]);
        pipe.Publish();
        _ = await pipe.ReadAsync();
        pipe.Complete();

        pipe.HoldsArray.Should().BeFalse();
        Write(pipe, [3]);
        pipe.Publish().Should().BeFalse("the app stopped reading");
        pipe.HoldsArray.Should().BeFalse();
    }

    [Fact]
    public async Task Bytes_stay_intact_when_the_writer_outgrows_the_array_the_reader_is_looking_at()
    {
        var (_, pipe) = Create();
        var first = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        Write(pipe, first);
        pipe.Publish();
        var held = await pipe.ReadAsync();

        var second = Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7)).ToArray();
        Write(pipe, second);
        pipe.Publish();

        held.Buffer.ToArray().Should().Equal(first, "the view taken before the growth still reads the same bytes");
        pipe.AdvanceTo(held.Buffer.GetPosition(50), held.Buffer.End);
        var rest = await pipe.ReadAsync().AsTask().WaitAsync(Bound);
        rest.Buffer.ToArray().Should().Equal(first.Skip(50).Concat(second));
        pipe.AdvanceTo(rest.Buffer.End);
        pipe.HoldsArray.Should().BeFalse();
    }

    private static (TcpStreamChannel Channel, TcpReceivePipe Pipe) Create()
    {
        var endpoints = new TcpEndpoints(TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.1")), 41000, TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.2")), 80);
        var channel = new TcpStreamChannel(TcpConnection.Connect(endpoints, TcpConfig.Default, new SeqNum(1), 0), _ => { });
        return (channel, channel.Receive);
    }

    private static void Write(TcpReceivePipe pipe, byte[] bytes)
    {
        bytes.CopyTo(pipe.GetWriteSpan(bytes.Length));
        pipe.CommitWrite(bytes.Length);
    }
}
