using System.Net;
using TsNet.Loops;

namespace TsNet.Netstack;

/// <summary>Commands: how application calls reach the loop task without a lock around the core.</summary>
internal sealed partial class NetstackLoop
{
    /// <summary>A request from the application, run by the loop task (synchronously: the core never waits).</summary>
    private abstract class NetstackCommand : LoopCommand<NetstackLoop>
    {
        /// <inheritdoc />
        public sealed override ValueTask ExecuteAsync(NetstackLoop loop, long now)
        {
            Execute(now);
            return ValueTask.CompletedTask;
        }

        /// <inheritdoc />
        public sealed override void Fail(Exception reason) => Abandon(reason);

        /// <summary>Runs on the loop task.</summary>
        public abstract void Execute(long now);

        /// <summary>The loop is gone: fail whoever waits for this command.</summary>
        public abstract void Abandon(Exception reason);
    }

    private sealed class PingCommand(NetstackLoop loop, IPAddress address, ushort sequence, TimeSpan timeout) : NetstackCommand
    {
        public IPAddress Address { get; } = address;

        public ushort Sequence { get; } = sequence;

        public TimeSpan Timeout { get; } = timeout;

        /// <summary>Continuations run asynchronously so completing a ping never runs caller code on the loop task.</summary>
        public TaskCompletionSource<TimeSpan> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(long now) => loop.StartPing(this, now);

        public override void Abandon(Exception reason) => Completion.TrySetException(reason);
    }

    /// <summary>The caller stopped waiting for a ping (timeout or cancellation): forget it now.</summary>
    private sealed class CancelPingCommand(NetstackLoop loop, ushort sequence) : NetstackCommand
    {
        public override void Execute(long now) => loop.CancelPing(sequence);

        public override void Abandon(Exception reason)
        {
        }
    }
}
