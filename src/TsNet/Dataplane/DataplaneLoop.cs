using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Capture;
using TsNet.Filter;
using TsNet.Loops;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Dataplane;

/// <summary>
/// The task that owns the WireGuard core. Inputs: inner IP packets from the netstack (<c>ToWireGuard</c>),
/// datagrams from the underlay (<c>FromUnderlay</c>) and commands; outputs: decrypted packets to the netstack
/// (<c>FromWireGuard</c>) and datagrams to the underlay (<see cref="IUnderlay"/>, bound in <see cref="Start"/>). It sleeps until the core's next timer deadline
/// (never longer than 5 s) or until an input arrives. Full output queues drop and count; nothing here blocks.
/// The turn-and-sleep cycle, the wait, the clock, commands and the failure policy are the shared
/// <see cref="LoopKernel{TLoop}"/>'s.
/// </summary>
internal sealed partial class DataplaneLoop : IWireGuardOutput, IAsyncDisposable, ILoopBody
{
    /// <summary>Items drained per input per turn: bounds latency for the other inputs and timers.</summary>
    private const int DrainBatch = 256;

    /// <summary>Commands waiting at most; senders wait for room (application back-pressure).</summary>
    private const int CommandQueueCapacity = 256;

    private readonly WireGuardEndpoint _core;
    private readonly Channel<PacketBuffer> _toWireGuard;
    private readonly Channel<UnderlayDatagram> _fromUnderlay;
    private readonly ChannelWriter<PacketBuffer> _fromWireGuard;
    private readonly LoopKernel<DataplaneLoop> _kernel;
    private readonly LoopWake _wake;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Func<int, IUnderlay> _bindUnderlay;
    private readonly ChannelWriter<UnderlayDatagram> _fromUnderlayWriter;
    private readonly int _listenPort;
    private RelayUnderlay? _underlay;

    // What the loop sends, receives and polls through: the static path layer over the relay layer (static mode) or
    // the relay layer itself (control mode, whose path layer sits under it).
    private IUnderlay? _top;
    private Task? _task;
    private int _pendingHandshakes;
    private int _disposed;

    public DataplaneLoop(
        WireGuardEndpoint core,
        int queueCapacity,
        ChannelWriter<PacketBuffer> fromWireGuard,
        Func<ChannelWriter<UnderlayDatagram>, Action<ReadOnlySpan<byte>>, int, IUnderlay> bindUnderlay,
        int listenPort,
        TimeProvider timeProvider,
        ILogger logger)
    {
        _core = core;
        _fromWireGuard = fromWireGuard;
        _kernel = new LoopKernel<DataplaneLoop>(this, "dataplane", typeof(TailnetServer).FullName!, timeProvider, CommandQueueCapacity, _stopping.Token);
        _logger = logger;
        _wake = _kernel.Wake;
        var options = new BoundedChannelOptions(queueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait };
        _toWireGuard = Channel.CreateBounded<PacketBuffer>(options);
        _fromUnderlay = Channel.CreateBounded<UnderlayDatagram>(new BoundedChannelOptions(queueCapacity) { SingleReader = true });
        ToWireGuard = new SignalingChannelWriter<PacketBuffer>(_toWireGuard.Writer, _wake);
        var fromUnderlayWriter = new SignalingChannelWriter<UnderlayDatagram>(_fromUnderlay.Writer, _wake);
        _fromUnderlayWriter = fromUnderlayWriter;
        // Binding waits for Start: a constructed loop holds no socket.
        _bindUnderlay = port => bindUnderlay(fromUnderlayWriter, CountHandshake, port);
        _listenPort = listenPort;
        _core.HandshakeRetrying += peer => HandshakeRetrying?.Invoke(peer);
    }

    /// <summary>Where the netstack writes outbound IP packets (bounded; a failed <c>TryWrite</c> is the writer's drop).</summary>
    public ChannelWriter<PacketBuffer> ToWireGuard { get; }

    public WireGuardEndpoint Core => _core;

    /// <summary>The current underlay sockets, if the underlay is UDP (test hook: all closed after dispose).</summary>
    internal IEnumerable<System.Net.Sockets.Socket> UnderlaySockets =>
        ((_underlay?.Inner is Paths.MagicUnderlay magic ? magic.Inner : _underlay?.Inner) as UdpUnderlay)?.Sockets ?? [];

    /// <summary>
    /// Wraps the bound transport in a layer of its own before the relay layer (control mode: the path layer over UDP,
    /// given the inbound queue so DERP can deliver into it). Set before <see cref="Start"/>.
    /// </summary>
    public Func<IUnderlay, ChannelWriter<UnderlayDatagram>, IUnderlay>? WrapUnderlay { get; init; }

    /// <summary>The inbound queue underlays deliver into (the path layer's DERP connections write here too).</summary>
    internal ChannelWriter<UnderlayDatagram> InboundWriter => _fromUnderlayWriter;

    /// <summary>The control-mode path layer (disco, DERP, STUN), or null in static mode. Loop task only, after <see cref="Start"/>.</summary>
    internal Paths.MagicUnderlay? Paths => _underlay?.Inner as Paths.MagicUnderlay;

    /// <summary>
    /// Static mode's path layer (direct/relay choice for peers with both an endpoint and a relay path), or null in
    /// control mode. Loop task only, after <see cref="Start"/>.
    /// </summary>
    internal Paths.StaticPathUnderlay? StaticPaths => _top as Paths.StaticPathUnderlay;

    /// <summary>The loop's task and the underlay's receive loops (test hook: all complete after dispose).</summary>
    internal IEnumerable<Task> OwnedTasks => (_task is null ? [] : new[] { _task }).Concat(_underlay?.Tasks ?? []);

    /// <summary>The underlay's port once started, the configured one before.</summary>
    public int ListenPort => _underlay?.Port ?? _listenPort;

    /// <summary>Raised on the loop's task before each handshake retry (the facade re-resolves host names).</summary>
    public event Action<WireGuardPeer>? HandshakeRetrying;

    /// <summary>Packets dropped because the netstack's inbound queue was full.</summary>
    public long FromWireGuardDrops;

    public long UnderlayInboundDrops => _underlay?.InboundDrops ?? 0;

    public long UnderlaySendDrops => _underlay?.SendDrops ?? 0;

    /// <summary>Wall-clock time of core time 0, so a core timestamp converts to the same wall time in every snapshot.</summary>
    public DateTimeOffset WallClockOrigin => _kernel.Clock.WallClockOrigin;

    /// <summary>Core time now: 100 ns ticks since the loop was made (the loop kernel's one time unit).</summary>
    public long Now => _kernel.Now;

    /// <summary>Why the loop faulted (see <see cref="LoopKernel{TLoop}"/>'s failure policy); null while healthy.</summary>
    public Exception? Fault => _kernel.Fault;

    /// <summary>Raised once, on the loop's task, when the loop faults; the argument is the cause (the owner logs it).</summary>
    public event Action<Exception>? Faulted
    {
        add => _kernel.Faulted += value;
        remove => _kernel.Faulted -= value;
    }

    /// <summary>Running packet captures; every inner packet in either direction is offered to them.</summary>
    public PacketCaptureHub? Capture { get; init; }

    /// <summary>The netmap's packet filter, set and used on the loop's task only; null (static mode) costs one check per packet.</summary>
    public StatefulPacketFilter? InboundFilter;

    /// <summary>
    /// Binds the underlay and starts the loop. If binding throws, nothing was bound; anything bound before a later
    /// failure is released by <see cref="DisposeAsync"/>.
    /// </summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, typeof(TailnetServer));
        var relay = new RelayClientCore(DiscoPrivateKey, RelayBindRetryInterval.Ticks);
        var transport = _bindUnderlay(_listenPort);
        if (WrapUnderlay is { } wrap)
        {
            try
            {
                transport = wrap(transport, _fromUnderlayWriter);
                if (transport is Paths.MagicUnderlay paths)
                {
                    paths.DirectPathConfirmed += peer => _core.HandshakeOnNewPath(peer, Now, this);
                }
            }
            catch
            {
                transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        }

        _underlay = new RelayUnderlay(transport, relay, _logger);
        _top = WrapUnderlay is null
            ? new Paths.StaticPathUnderlay(_underlay, DiscoPrivateKey, _core.PublicKey, null, () => Now, _logger)
            : _underlay;
        _top.Start();
        _task = Task.Run(_kernel.RunAsync);
    }

    /// <summary>Runs <paramref name="action"/> on the loop's task and returns its result.</summary>
    /// <exception cref="ObjectDisposedException">The node is (or gets) disposed.</exception>
    /// <exception cref="InvalidOperationException">The loop faulted; the inner exception is the cause.</exception>
    public async Task<T> InvokeAsync<T>(Func<DataplaneLoop, long, ValueTask<T>> action, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, typeof(TailnetServer));
        return await _kernel.InvokeAsync(new DataplaneCommand<T>(action), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="action"/> on the loop's task.</summary>
    /// <exception cref="ObjectDisposedException">The node is (or gets) disposed.</exception>
    /// <exception cref="InvalidOperationException">The loop faulted; the inner exception is the cause.</exception>
    public Task InvokeAsync(Action<DataplaneLoop, long> action, CancellationToken cancellationToken = default) =>
        InvokeAsync<bool>((loop, now) =>
        {
            action(loop, now);
            return ValueTask.FromResult(true);
        }, cancellationToken);

    /// <summary>Faults the loop with <paramref name="cause"/> at its next turn (the node takes both loops down together).</summary>
    public void RequestFault(Exception cause) => _kernel.RequestFault(cause);

    /// <summary>Moves the underlay to another port (test hook for roaming); returns the new port.</summary>
    internal async ValueTask<int> RebindAsync(int port)
    {
        var underlay = Started();
        var replacement = _bindUnderlay(port);
        underlay.Flush();
        IUnderlay old;
        if (underlay.Inner is Paths.MagicUnderlay magic)
        {
            // The path layer stays too: its disco paths and DERP connections outlive the socket.
            old = magic.Inner;
            magic.Inner = replacement;
        }
        else
        {
            old = underlay.Inner;
            // The relay layer stays: its paths keep their bindings across the move, like a roaming client's.
            underlay.Inner = replacement;
        }

        replacement.Start();
        await old.DisposeAsync().ConfigureAwait(false);
        return replacement.Port;
    }

    private void CountHandshake(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length >= 4 && datagram[0] is (byte)MessageLayout.TypeInitiation or (byte)MessageLayout.TypeResponse)
        {
            Interlocked.Increment(ref _pendingHandshakes);
        }
    }

    /// <summary>One turn: commands, underlay datagrams, netstack packets, core and relay timers, then the send batch.</summary>
    async ValueTask<bool> ILoopBody.StepAsync(long now)
    {
        var more = await _kernel.RunCommandsAsync(now, DrainBatch).ConfigureAwait(false);
        more |= DrainUnderlay();
        more |= DrainOutbound();
        now = Now;
        if (_core.NextDeadline <= now)
        {
            _core.Poll(now, this);
            more = true;
        }

        var underlay = _top!;
        if (underlay.NextDeadline <= now)
        {
            underlay.Poll(now);
            more = true;
        }

        underlay.Flush();
        return more;
    }

    /// <inheritdoc />
    long ILoopBody.NextDeadline => Math.Min(_core.NextDeadline, _top?.NextDeadline ?? Timestamps.NotArmed);

    /// <inheritdoc />
    void ILoopBody.OnFaulted(Exception failure)
    {
        // Commands were failed by the kernel; packets in the queues are returned by DisposeAsync.
    }

    private bool DrainUnderlay()
    {
        var worked = false;
        for (var i = 0; i < DrainBatch && _fromUnderlay.Reader.TryRead(out var datagram); i++)
        {
            worked = true;
            UnderlayReceiveResult received;
            try
            {
                received = _top!.Receive(ref datagram, Now);
            }
            catch (Exception ex)
            {
                // As for the core: bad input is dropped inside; anything escaping is a bug, logged and survived.
                LogCoreFailed(_logger, ex);
                datagram.Buffer.Return();
                continue;
            }

            if (received == UnderlayReceiveResult.Consumed)
            {
                continue;
            }

            var pending = 0;
            if (received == UnderlayReceiveResult.Direct && datagram.Buffer.Length >= 4 && datagram.Buffer.Span[0] is (byte)MessageLayout.TypeInitiation or (byte)MessageLayout.TypeResponse)
            {
                pending = Math.Max(0, Interlocked.Decrement(ref _pendingHandshakes));
            }

            try
            {
                _core.ReceiveDatagram(datagram.Buffer, datagram.Source, Now, pending, this);
            }
            catch (Exception ex)
            {
                // The core drops bad input itself; anything escaping is a bug, logged and survived.
                LogCoreFailed(_logger, ex);
            }
        }

        return worked;
    }

    private bool DrainOutbound()
    {
        var worked = false;
        for (var i = 0; i < DrainBatch && _toWireGuard.Reader.TryRead(out var packet); i++)
        {
            worked = true;
            if (Capture is { IsActive: true } capture)
            {
                capture.Tap(packet.Span);
            }

            InboundFilter?.RecordOutbound(packet.Span, Now);
            try
            {
                _core.SendPacket(packet, Now, this);
            }
            catch (Exception ex)
            {
                LogCoreFailed(_logger, ex);
            }
        }

        return worked;
    }

    void IWireGuardOutput.SendDatagram(in UnderlayAddress destination, PacketBuffer datagram)
    {
        _top!.Send(destination, datagram);
        datagram.Return();
    }

    void IWireGuardOutput.DeliverPacket(WireGuardPeer peer, PacketBuffer packet)
    {
        if (Capture is { IsActive: true } capture)
        {
            capture.Tap(packet.Span);
        }

        if (InboundFilter is { } filter && !filter.AllowInbound(packet.Span, Now))
        {
            packet.Return();
            return;
        }

        if (!_fromWireGuard.TryWrite(packet))
        {
            Interlocked.Increment(ref FromWireGuardDrops);
            packet.Return();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_task is not null)
        {
            await _task.ConfigureAwait(false); // never throws: a fault was handled by the kernel's failure policy
        }

        if (_top is not null)
        {
            await _top.DisposeAsync().ConfigureAwait(false);
        }

        _kernel.CloseCommands(new ObjectDisposedException(typeof(TailnetServer).FullName));
        _kernel.Dispose();

        while (_fromUnderlay.Reader.TryRead(out var datagram))
        {
            datagram.Buffer.Return();
        }

        while (_toWireGuard.Reader.TryRead(out var packet))
        {
            packet.Return();
        }

        foreach (var peer in _core.Peers.ToList())
        {
            _core.RemovePeer(peer.PublicKey);
        }

        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "WireGuard core threw on a packet; packet dropped")]
    private static partial void LogCoreFailed(ILogger logger, Exception exception);
}
