using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Sockets;

/// <summary>
/// The lean send pipe behaves as the <see cref="Pipe"/> (with its notifying wrapper) it replaced where the app can
/// tell: flushes wake the loop, wait at <see cref="TcpStreamChannel.SendPauseBytes"/> until fewer than half remain,
/// report completion once the loop is gone (keeping a connection failure in <see cref="TcpSendPipe.Error"/>), and an
/// emptied pipe holds no array.
/// </summary>
public sealed class TcpSendPipeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Flushed_bytes_reach_the_loop_which_is_notified_and_the_array_goes_back_once_taken()
    {
        var notified = 0;
        var pipe = Create(() => notified++);
        pipe.TryPeek(out _, out _).Should().BeFalse();

        await pipe.WriteAsync(new byte[] { 1, 2, 3 });
        notified.Should().Be(1);
        pipe.TryPeek(out var bytes, out var finished).Should().BeTrue();
        bytes.ToArray().Should().Equal(1, 2, 3);
        finished.Should().BeFalse();
        pipe.Consume(2);
        pipe.HoldsArray.Should().BeTrue();

        pipe.TryPeek(out bytes, out _).Should().BeTrue();
        bytes.ToArray().Should().Equal(3);
        pipe.Consume(1);
        pipe.HoldsArray.Should().BeFalse("an empty pipe returns its array");
    }

    [Fact]
    public async Task Unflushed_bytes_stay_with_the_app_until_the_flush_or_the_completion()
    {
        var pipe = Create();
        pipe.GetSpan(4)[0] = 9;
        pipe.Advance(1);
        pipe.UnflushedBytes.Should().Be(1);
        pipe.TryPeek(out _, out _).Should().BeFalse();

        await pipe.CompleteAsync();
        pipe.TryPeek(out var bytes, out var finished).Should().BeTrue();
        bytes.ToArray().Should().Equal(9);
        finished.Should().BeTrue();
        pipe.Consume(1);
        pipe.HoldsArray.Should().BeFalse();
    }

    [Fact]
    public async Task One_room_may_be_advanced_in_steps_as_a_buffer_writer_commits()
    {
        var pipe = Create();
        var room = pipe.GetMemory(8);
        room.Span[0] = 1;
        pipe.Advance(1);
        room.Span[1] = 2;
        room.Span[2] = 3;
        pipe.Advance(2);
        FluentActions.Invoking(() => pipe.Advance(room.Length)).Should().Throw<ArgumentOutOfRangeException>("beyond the room");
        await pipe.FlushAsync();

        pipe.TryPeek(out var bytes, out _).Should().BeTrue();
        bytes.ToArray().Should().Equal(1, 2, 3);
        pipe.Consume(3);
        pipe.HoldsArray.Should().BeFalse("flushed and taken: the room was given up at the flush");
        FluentActions.Invoking(() => pipe.Advance(1)).Should().Throw<InvalidOperationException>("no memory is held after the flush");
    }

    [Fact]
    public async Task A_flush_waits_at_the_pause_mark_until_the_loop_takes_more_than_half()
    {
        var pipe = Create();
        var flush = pipe.WriteAsync(new byte[TcpStreamChannel.SendPauseBytes]).AsTask();
        flush.IsCompleted.Should().BeFalse("the pause mark was reached");

        pipe.TryPeek(out _, out _).Should().BeTrue();
        pipe.Consume(TcpStreamChannel.SendPauseBytes / 2);
        flush.IsCompleted.Should().BeFalse("half of the bytes still wait");

        pipe.TryPeek(out _, out _).Should().BeTrue();
        pipe.Consume(1);
        var result = await flush.WaitAsync(Bound);
        result.IsCompleted.Should().BeFalse();
        result.IsCanceled.Should().BeFalse();
    }

    [Fact]
    public async Task A_waiting_flush_can_be_canceled_both_ways()
    {
        var pipe = Create();
        var flush = pipe.WriteAsync(new byte[TcpStreamChannel.SendPauseBytes]).AsTask();
        pipe.CancelPendingFlush();
        (await flush.WaitAsync(Bound)).IsCanceled.Should().BeTrue();

        using var cts = new CancellationTokenSource();
        var tokenFlush = pipe.FlushAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await FluentActions.Awaiting(() => tokenFlush.WaitAsync(Bound)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task A_connection_failure_completes_the_output_and_keeps_the_error()
    {
        var pipe = Create();
        var flush = pipe.WriteAsync(new byte[TcpStreamChannel.SendPauseBytes]).AsTask();

        pipe.CompleteReader(new SocketException((int)SocketError.ConnectionReset));

        (await flush.WaitAsync(Bound)).IsCompleted.Should().BeTrue();
        pipe.Error!.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        pipe.HoldsArray.Should().BeFalse("nobody will send the bytes");
        (await pipe.WriteAsync(new byte[10])).IsCompleted.Should().BeTrue();
        pipe.HoldsArray.Should().BeFalse();
    }

    [Fact]
    public async Task A_normal_end_of_the_loop_side_completes_flushes_without_an_error()
    {
        var pipe = Create();
        pipe.CompleteReader();
        (await pipe.WriteAsync(new byte[1])).IsCompleted.Should().BeTrue();
        pipe.Error.Should().BeNull();
    }

    [Fact]
    public async Task Writing_after_the_completion_throws()
    {
        var pipe = Create();
        await pipe.CompleteAsync();
        FluentActions.Invoking(() => pipe.GetSpan()).Should().Throw<InvalidOperationException>();
    }

    private static TcpSendPipe Create(Action? notified = null)
    {
        var endpoints = new TcpEndpoints(TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.1")), 41000, TcpAddress.FromIPAddress(IPAddress.Parse("100.64.0.2")), 80);
        var channel = new TcpStreamChannel(TcpConnection.Connect(endpoints, TcpConfig.Default, new SeqNum(1), 0), c =>
        {
            notified?.Invoke();
            c.MarkDequeued();
        });
        return channel.Send;
    }
}
