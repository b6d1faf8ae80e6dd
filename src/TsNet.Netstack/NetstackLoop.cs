using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>
/// The one task that owns a <see cref="NetstackCore"/>. It reads IP packets from the dataplane
/// (<c>fromWireGuard</c>), writes the core's output to it (<c>toWireGuard</c>, never blocking: a full channel drops and
/// counts), runs application commands from a bounded command channel instead of sharing a lock, and sleeps until
/// the core's next deadline — at most <see cref="MaxIdleWait"/>.
/// </summary>
/// <remarks>
/// Each iteration, in order: take the time → run queued commands → process up to <see cref="InboundBatchLimit"/>
/// inbound packets → expire pings → <see cref="NetstackCore.Poll"/> → flush outbound packets → complete pings whose
/// reply arrived → wait for inbound packets, a command, or the next deadline.
/// </remarks>
internal sealed partial class NetstackLoop : IAsyncDisposable
{
    /// <summary>Longest sleep with nothing scheduled: a loop never sleeps forever (design §1).</summary>
    private static readonly TimeSpan MaxIdleWait = TimeSpan.FromSeconds(5);

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
    private readonly TimeProvider _timeProvider;
    private readonly Channel<NetstackCommand> _commands;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lifecycle = new();
    private readonly ushort _pingIdentifier;

    /// <summary>Pings in flight by sequence number; touched only by the loop task (and by dispose after it ended).</summary>
    private readonly Dictionary<ushort, PendingPing> _pendingPings = [];

    private int _lastPingSequence;
    private long _nextPingSweep = long.MaxValue;
    private Task? _task;
    private Task? _disposeTask;
    private Exception? _failure;
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
        _core = new NetstackCore(options);
        _fromWireGuard = fromWireGuard;
        _toWireGuard = toWireGuard;
        _timeProvider = timeProvider;
        _commands = Channel.CreateBounded<NetstackCommand>(new BoundedChannelOptions(CommandQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _pingIdentifier = (ushort)Interlocked.Increment(ref s_lastPingIdentifier);
    }

    /// <summary>Packet and drop counters of the core and the loop.</summary>
    public NetstackCounters Counters => _core.Counters;

    /// <summary>Echo identifier of this loop's pings.</summary>
    internal ushort PingIdentifier => _pingIdentifier;

    /// <summary>The loop task (completed before start and after dispose); for tests.</summary>
    internal Task Completion => _task ?? Task.CompletedTask;

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

            _task = Task.Run(RunAsync);
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
        try
        {
            await _commands.Writer.WriteAsync(ping, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            throw new InvalidOperationException("The netstack loop failed.", _failure);
        }

        try
        {
            return await ping.Completion.Task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Complete the ping so the sweep recognises it as abandoned (should the cancel command not fit in the
            // queue), and ask the loop to forget it now. Cancelled, not faulted: nobody observes it any more.
            ping.Completion.TrySetCanceled(CancellationToken.None);
            _commands.Writer.TryWrite(new CancelPingCommand(this, ping.Sequence));
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
        _commands.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_task is not null)
        {
            await _task.ConfigureAwait(false);
        }

        // The loop task has ended: everything it owned is ours now.
        var disposed = new ObjectDisposedException(GetType().FullName);
        while (_commands.Reader.TryRead(out var command))
        {
            command.Abandon(disposed);
        }

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

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var stopping = _stopping.Token;
        Task<bool>? inboundWait = null;
        Task<bool>? commandWait = null;
        Task<bool>? serviceWait = null;
        Task<bool>? writeWait = null;
        bool inboundOpen = true;
        Task? delay = null;
        CancellationTokenSource? delayCancellation = null;
        long delayUntil = long.MaxValue;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                long now = _timeProvider.GetTimestamp();
                bool moreWork = RunCommands(now);
                moreWork |= ServiceApps(now);
                // While the dataplane's queue is full, leave inbound packets queued too: their answers (ACKs,
                // echo replies) would only be dropped.
                bool outputBlocked = _core.OutboundFull;
                if (!outputBlocked)
                {
                    moreWork |= inboundOpen && ProcessInbound(now);
                }

                ExpirePings(now);
                _core.Poll(now);
                ServiceTcp(now);
                outputBlocked = !FlushOutbound();
                CompletePings();
                if (moreWork && !outputBlocked)
                {
                    continue;
                }

                // Wait for whichever comes first: a packet, a command, an app notification, room toward the
                // dataplane (when blocked) or the next deadline. A wait that did not fire is kept for the next
                // round rather than started again, so waiters never pile up.
                if (!outputBlocked && inboundOpen && inboundWait is null)
                {
                    var wait = _fromWireGuard.WaitToReadAsync(stopping);
                    if (wait.IsCompletedSuccessfully)
                    {
                        inboundOpen = wait.Result;
                        continue;
                    }

                    inboundWait = wait.AsTask();
                }

                if (commandWait is null)
                {
                    var wait = _commands.Reader.WaitToReadAsync(stopping);
                    if (wait.IsCompletedSuccessfully)
                    {
                        if (!wait.Result)
                        {
                            return; // completed by DisposeAsync
                        }

                        continue;
                    }

                    commandWait = wait.AsTask();
                }

                if (serviceWait is null)
                {
                    var wait = _service.Reader.WaitToReadAsync(stopping);
                    if (wait.IsCompletedSuccessfully)
                    {
                        continue;
                    }

                    serviceWait = wait.AsTask();
                }

                if (outputBlocked && writeWait is null)
                {
                    var wait = _toWireGuard.WaitToWriteAsync(stopping);
                    if (wait.IsCompletedSuccessfully)
                    {
                        continue;
                    }

                    writeWait = wait.AsTask();
                }

                long wakeAt = NextWake(now);
                if (delay is null || wakeAt < delayUntil)
                {
                    if (delayCancellation is not null)
                    {
                        await delayCancellation.CancelAsync().ConfigureAwait(false);
                        delayCancellation.Dispose();
                    }

                    delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    delay = Task.Delay(_timeProvider.GetElapsedTime(now, wakeAt), _timeProvider, delayCancellation.Token);
                    delayUntil = wakeAt;
                }

                await Task.WhenAny(
                    (outputBlocked ? null : inboundWait) ?? delay,
                    commandWait,
                    serviceWait,
                    (outputBlocked ? writeWait : null) ?? delay,
                    delay).ConfigureAwait(false);
                stopping.ThrowIfCancellationRequested();
                if (inboundWait is { IsCompleted: true })
                {
                    inboundOpen = inboundWait.IsCompletedSuccessfully && inboundWait.Result;
                    inboundWait = null;
                }

                if (commandWait.IsCompleted)
                {
                    commandWait = null;
                }

                if (serviceWait.IsCompleted)
                {
                    serviceWait = null;
                }

                if (writeWait is { IsCompleted: true })
                {
                    writeWait = null;
                }

                if (delay.IsCompleted)
                {
                    delay = null;
                    delayUntil = long.MaxValue;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposing.
        }
        catch (Exception e)
        {
            // A bug, not bad input (malformed packets never throw). Fail loudly to callers instead of leaving
            // their pings to time out; DisposeAsync still cleans up.
            Fail(e);
        }
        finally
        {
            delayCancellation?.Dispose();
        }
    }

    private void Fail(Exception e)
    {
        _failure = e;
        _commands.Writer.TryComplete(e);
        var failure = new InvalidOperationException("The netstack loop failed.", e);
        foreach (var pending in _pendingPings.Values)
        {
            pending.Completion.TrySetException(failure);
        }

        _pendingPings.Clear();
        while (_commands.Reader.TryRead(out var command))
        {
            command.Abandon(failure);
        }

        AbandonTcp(failure);
        FailUdpSockets(failure);
    }

    /// <returns>True when the batch limit was hit and more commands may be waiting.</returns>
    private bool RunCommands(long now)
    {
        for (int i = 0; i < CommandBatchLimit; i++)
        {
            if (!_commands.Reader.TryRead(out var command))
            {
                return false;
            }

            command.Execute(now);
        }

        return true;
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

    /// <returns>False when the dataplane's queue is full and packets wait in the core (kept in order, not dropped).</returns>
    private bool FlushOutbound()
    {
        while (_core.TryPeekOutbound(out var packet))
        {
            if (!_toWireGuard.TryWrite(packet))
            {
                return false;
            }

            _core.TryDequeueOutbound(out _);
        }

        return true;
    }

    private long NextWake(long now)
    {
        long idle = now + (long)(MaxIdleWait.TotalSeconds * _timeProvider.TimestampFrequency);
        return Math.Max(now, Math.Min(Math.Min(_core.NextDeadline, _nextPingSweep), idle));
    }
}
