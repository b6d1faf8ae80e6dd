using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using TsNet.Loops;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>
/// The one task that owns a <see cref="NetstackCore"/>. It reads IP packets from the dataplane
/// (<c>fromWireGuard</c>), writes the core's output to it (<c>toWireGuard</c>), runs application commands from a
/// bounded command queue instead of sharing a lock, and sleeps until the core's next deadline — at most
/// <see cref="LoopWake.MaxIdleWait"/>. The turn-and-sleep cycle, the wait, the clock (100 ns ticks, so the core is
/// given <see cref="LoopClock.TicksPerSecond"/>), commands and the failure policy are the shared
/// <see cref="LoopKernel{TLoop}"/>'s.
/// </summary>
/// <remarks>
/// <para>Each turn, in order: run queued commands → service app notifications → process up to
/// <see cref="InboundBatchLimit"/> inbound packets → expire pings → <see cref="NetstackCore.Poll"/> → flush outbound
/// packets → complete pings whose reply arrived → sleep until inbound packets, a command, an app notification, room
/// toward the dataplane (when blocked) or the next deadline.</para>
/// <para>Toward the dataplane the netstack applies back-pressure, it does not drop: when <c>toWireGuard</c> is full,
/// outbound packets wait in the core's own bounded queue, in order (<see cref="NetstackOptions.OutboundQueueCapacity"/>;
/// only what overflows that is dropped and counted), and inbound packets stay queued until there is room again,
/// because their answers (ACKs, echo replies) could only be dropped. TCP then sees its segments wait rather than
/// vanish, so it slows down without a loss episode. The dataplane itself never blocks on its outputs.</para>
/// </remarks>
internal sealed partial class NetstackLoop : IAsyncDisposable, ILoopBody
{
    /// <summary>How often abandoned pings (caller cancelled, cancel command lost) are swept out.</summary>
    private static readonly TimeSpan PingSweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>Commands waiting for the loop, at most; senders wait for room (application back-pressure).</summary>
    private const int CommandQueueCapacity = 256;

    /// <summary>Inbound packets per iteration before commands and output get a turn, so a flood cannot starve them.</summary>
    private const int InboundBatchLimit = 256;

    /// <summary>Commands per iteration before packets get a turn.</summary>
    private const int CommandBatchLimit = 64;

    /// <summary>Echo data per ping: the 56 bytes of <c>ping</c>'s default.</summary>
    private const int PingPayloadBytes = 56;

    /// <summary>Seed for per-loop echo identifiers: random per process, then one step per loop, so two loops of a
    /// process never share one and replies cannot be confused.</summary>
    private static int s_lastPingIdentifier = Random.Shared.Next(ushort.MaxValue + 1);

    private readonly NetstackCore _core;
    private readonly ChannelReader<PacketBuffer> _fromWireGuard;
    private readonly ChannelWriter<PacketBuffer> _toWireGuard;
    private readonly LoopKernel<NetstackLoop> _kernel;
    private readonly ChannelWakeup _inboundReady;
    private readonly ChannelWakeup _outboundRoom;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lifecycle = new();
    private readonly ushort _pingIdentifier;

    /// <summary>Pings in flight by sequence number; touched only by the loop task (and by dispose after it ended).</summary>
    private readonly Dictionary<ushort, PendingPing> _pendingPings = [];

    // One delegate for every stream channel (a method group converted per connection would allocate one each).
    private readonly Action<Sockets.TcpStreamChannel> _scheduleService;

    private int _lastPingSequence;
    private long _nextPingSweep = long.MaxValue;
    private Task? _task;
    private Task? _disposeTask;
    private volatile bool _disposed;

    public NetstackLoop(
        NetstackOptions options,
        ChannelReader<PacketBuffer> fromWireGuard,
        ChannelWriter<PacketBuffer> toWireGuard,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(fromWireGuard);
        ArgumentNullException.ThrowIfNull(toWireGuard);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (options.TimestampFrequency != LoopClock.TicksPerSecond)
        {
            throw new ArgumentException(
                $"The loop gives its core loop ticks: TimestampFrequency must be {LoopClock.TicksPerSecond}.", nameof(options));
        }

        _core = new NetstackCore(options);
        _fromWireGuard = fromWireGuard;
        _toWireGuard = toWireGuard;
        _kernel = new LoopKernel<NetstackLoop>(this, "netstack", GetType().FullName!, timeProvider, CommandQueueCapacity, _stopping.Token);
        _inboundReady = ChannelWakeup.WhenReadable(fromWireGuard, _kernel.Wake);
        _outboundRoom = ChannelWakeup.WhenWritable(toWireGuard, _kernel.Wake);
        _pingIdentifier = (ushort)Interlocked.Increment(ref s_lastPingIdentifier);
        _scheduleService = ScheduleService;
    }

    /// <summary>Packet and drop counters of the core and the loop.</summary>
    public NetstackCounters Counters => _core.Counters;

    /// <summary>Echo identifier of this loop's pings.</summary>
    internal ushort PingIdentifier => _pingIdentifier;

    /// <summary>The loop task (completed before start and after dispose); for tests.</summary>
    internal Task Completion => _task ?? Task.CompletedTask;

    /// <summary>Why the loop faulted (see <see cref="LoopKernel{TLoop}"/>'s failure policy); null while healthy.</summary>
    public Exception? Fault => _kernel.Fault;

    /// <summary>Raised once, on the loop task, when the loop faults; the argument is the cause.</summary>
    public event Action<Exception>? Faulted
    {
        add => _kernel.Faulted += value;
        remove => _kernel.Faulted -= value;
    }

    /// <summary>The loop's wait; for tests (wake counts).</summary>
    internal LoopWake Wake => _kernel.Wake;

    /// <summary>Faults the loop with <paramref name="cause"/> at its next turn (the node takes both loops down together).</summary>
    public void RequestFault(Exception cause) => _kernel.RequestFault(cause);

    /// <summary>Starts the loop task. A loop starts once.</summary>
    public void Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_task is not null)
            {
                throw new InvalidOperationException("The netstack loop is already running.");
            }

            _task = Task.Run(_kernel.RunAsync);
        }
    }

    /// <summary>
    /// Sends an ICMP echo request to <paramref name="address"/> and returns the round-trip time of its reply.
    /// </summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The loop is (or gets) disposed.</exception>
    /// <exception cref="InvalidOperationException">No local address of the address's family, or the ping could
    /// not be queued (too many pings in flight, outbound queue full).</exception>
    public async ValueTask<TimeSpan> PingAsync(IPAddress address, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("Only IPv4 and IPv6 addresses can be pinged.", nameof(address));
        }

        var ping = new PingCommand(this, address, (ushort)Interlocked.Increment(ref _lastPingSequence), timeout);
        await _kernel.PostAsync(ping, cancellationToken).ConfigureAwait(false);
        try
        {
            return await ping.Completion.Task.WaitAsync(timeout, _kernel.Clock.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Complete the ping so the sweep recognises it as abandoned (should the cancel command not fit in the
            // queue), and ask the loop to forget it now. Cancelled, not faulted: nobody observes it any more.
            ping.Completion.TrySetCanceled(CancellationToken.None);
            _kernel.TryPost(new CancelPingCommand(this, ping.Sequence));
            throw;
        }
    }

    /// <summary>
    /// Stops the loop task, faults pending pings with <see cref="ObjectDisposedException"/> and returns every buffer
    /// the loop holds (including packets still waiting in <c>fromWireGuard</c>) to its pool. Idempotent.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_lifecycle)
        {
            if (_disposeTask is null)
            {
                _disposed = true;
                _disposeTask = DisposeCoreAsync();
            }

            return new ValueTask(_disposeTask);
        }
    }

    private async Task DisposeCoreAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_task is not null)
        {
            await _task.ConfigureAwait(false); // never throws: a fault was handled by the kernel's failure policy
        }

        // The loop task has ended: everything it owned is ours now.
        var disposed = new ObjectDisposedException(GetType().FullName);
        _kernel.CloseCommands(disposed);

        foreach (var pending in _pendingPings.Values)
        {
            pending.Completion.TrySetException(disposed);
        }

        _pendingPings.Clear();
        AbandonTcp(disposed);
        _core.Clear();
        while (_fromWireGuard.TryRead(out var packet))
        {
            packet.Return();
        }

        _kernel.Dispose();
        _stopping.Dispose();
    }

    /// <summary>One turn (see the remarks on the class); true when a batch limit was hit and work is still waiting.</summary>
    async ValueTask<bool> ILoopBody.StepAsync(long now)
    {
        bool moreWork = await _kernel.RunCommandsAsync(now, CommandBatchLimit).ConfigureAwait(false);
        moreWork |= ServiceApps(now);
        // While the dataplane's queue is full, leave inbound packets queued too: their answers (ACKs, echo replies)
        // would only be dropped.
        bool outputBlocked = _core.OutboundFull;
        if (!outputBlocked)
        {
            moreWork |= ProcessInbound(now);
        }

        ExpirePings(now);
        _core.Poll(now);
        ServiceTcp(now);
        outputBlocked = !FlushOutbound(now, out bool loopbackLeft);
        moreWork |= loopbackLeft;
        CompletePings();
        if (outputBlocked)
        {
            // Sleep until there is room toward the dataplane (or a command, or a deadline); turn again at once if
            // there already is.
            return _outboundRoom.Arm();
        }

        // Before sleeping, make sure the next inbound packet wakes us; turn again at once if one already arrived.
        return moreWork || _inboundReady.Arm();
    }

    /// <inheritdoc />
    long ILoopBody.NextDeadline => Math.Min(_core.NextDeadline, _nextPingSweep);

    /// <summary>A bug, not bad input (malformed packets never throw): fail callers loudly instead of leaving their
    /// pings to time out and their streams to hang; DisposeAsync still cleans up.</summary>
    void ILoopBody.OnFaulted(Exception failure)
    {
        foreach (var pending in _pendingPings.Values)
        {
            pending.Completion.TrySetException(failure);
        }

        _pendingPings.Clear();
        AbandonTcp(failure);
        FailUdpSockets(failure);
    }

    /// <returns>True when the batch limit was hit and more packets may be waiting.</returns>
    private bool ProcessInbound(long now)
    {
        for (int i = 0; i < InboundBatchLimit; i++)
        {
            if (!_fromWireGuard.TryRead(out var packet))
            {
                return false;
            }

            _core.ProcessInbound(packet, now);
        }

        return true;
    }

    /// <summary>
    /// Hands the core's output to the dataplane, except packets to one of the node's own addresses: those go straight
    /// back into the core (loopback), at most <see cref="InboundBatchLimit"/> per turn so a loopback exchange cannot
    /// starve the rest. <paramref name="loopbackLeft"/>: something was looped back, so another turn is needed at once
    /// (the sockets it touched are serviced there, and packets past the limit are looped then).
    /// </summary>
    /// <returns>False when the dataplane's queue is full and packets wait in the core (kept in order, not dropped).</returns>
    private bool FlushOutbound(long now, out bool loopbackLeft)
    {
        loopbackLeft = false;
        int loopedBack = 0;
        while (_core.TryPeekOutbound(out var packet))
        {
            if (_core.IsAddressedToSelf(packet))
            {
                if (loopedBack++ == InboundBatchLimit)
                {
                    return true;
                }

                loopbackLeft = true;
                _core.TryDequeueOutbound(out _);
                _core.ProcessInbound(packet, now);
                continue;
            }

            if (!_toWireGuard.TryWrite(packet))
            {
                return false;
            }

            _core.TryDequeueOutbound(out _);
        }

        return true;
    }
}
