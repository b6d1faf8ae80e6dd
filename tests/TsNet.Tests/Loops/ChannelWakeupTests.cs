using System.Threading.Channels;
using TsNet.Loops;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Loops;

/// <summary>Waking a loop from a channel it does not own (the netstack's inbound queue, room toward the dataplane).</summary>
public sealed class ChannelWakeupTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private readonly LoopWake _wake;

    public ChannelWakeupTests() => _wake = new LoopWake(new LoopClock(new ManualTimeProvider()), _stopping.Token);

    public void Dispose()
    {
        _wake.Dispose();
        _stopping.Dispose();
    }

    [Fact]
    public async Task Readable_WakesTheSleepingLoop()
    {
        var channel = Channel.CreateBounded<int>(4);
        var wakeup = ChannelWakeup.WhenReadable(channel.Reader, _wake);
        wakeup.Arm().Should().BeFalse("nothing is queued yet");
        var wait = _wake.WaitAsync(long.MaxValue);
        wait.IsCompleted.Should().BeFalse();

        channel.Writer.TryWrite(1).Should().BeTrue();

        await wait.AsTask().WaitAsync(Bound);
    }

    [Fact]
    public void AlreadyReadable_SaysSoInsteadOfSleeping()
    {
        var channel = Channel.CreateBounded<int>(4);
        channel.Writer.TryWrite(1);

        ChannelWakeup.WhenReadable(channel.Reader, _wake).Arm().Should().BeTrue();
    }

    [Fact]
    public async Task Writable_WakesWhenRoomAppears()
    {
        var channel = Channel.CreateBounded<int>(1);
        channel.Writer.TryWrite(1);
        var wakeup = ChannelWakeup.WhenWritable(channel.Writer, _wake);
        wakeup.Arm().Should().BeFalse("the channel is full");
        var wait = _wake.WaitAsync(long.MaxValue);

        channel.Reader.TryRead(out _).Should().BeTrue();

        await wait.AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task CompletedChannel_IsClosed_AndNeverReportsReady()
    {
        var channel = Channel.CreateBounded<int>(4);
        var wakeup = ChannelWakeup.WhenReadable(channel.Reader, _wake);
        wakeup.Arm().Should().BeFalse();
        var wait = _wake.WaitAsync(long.MaxValue);

        channel.Writer.TryComplete();

        await wait.AsTask().WaitAsync(Bound); // completion wakes the loop once
        await LoopKernelTests.WaitUntilAsync(() => wakeup.IsClosed);
        wakeup.Arm().Should().BeFalse("a loop must not spin on a channel that will never have items again");
    }

    [Fact]
    public async Task ArmedTwice_KeepsOneWaitOutstanding()
    {
        var channel = Channel.CreateBounded<int>(4);
        var wakeup = ChannelWakeup.WhenReadable(channel.Reader, _wake);

        wakeup.Arm().Should().BeFalse();
        wakeup.Arm().Should().BeFalse("the outstanding wait still covers the next item");

        channel.Writer.TryWrite(1);
        await _wake.WaitAsync(long.MaxValue).AsTask().WaitAsync(Bound); // the one outstanding wait fired
    }
}
