using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>
/// UDP sockets through the loop: bind, send and unbind are commands the loop task runs against its core; received
/// datagrams bypass the loop — the core writes them into each socket's own bounded queue, which the application
/// reads (<see cref="UdpSocketState"/>).
/// </summary>
internal sealed partial class NetstackLoop
{
    /// <summary>UDP counters of the core.</summary>
    public UdpCounters UdpCounters => _core.UdpCounters;

    /// <summary>ICMP error counters of the core.</summary>
    public IcmpErrorCounters IcmpErrorCounters => _core.IcmpErrorCounters;

    /// <summary>The pool UDP payloads are copied into before a send command is queued. Thread-safe.</summary>
    internal PacketBufferPool Pool => _core.Pool;

    /// <summary>Largest UDP payload that fits the MTU. Thread-safe (immutable settings).</summary>
    internal int MaxUdpPayload(bool isIpv6) => _core.MaxUdpPayload(isIpv6);

    /// <summary>True when the node has an address of the family. Thread-safe (immutable settings).</summary>
    internal bool HasLocalAddress(bool isIpv6) => _core.HasLocalAddress(isIpv6);

    /// <summary>
    /// Binds a UDP socket to <paramref name="localAddress"/> (null: every address of the node) and
    /// <paramref name="port"/> (0: the next free port of the ephemeral range).
    /// </summary>
    /// <exception cref="SocketException"><see cref="SocketError.AddressAlreadyInUse"/>: the port is taken (or, for port
    /// 0, the ephemeral range is exhausted); <see cref="SocketError.AddressNotAvailable"/>: not one of our addresses.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before the loop bound the socket (nothing stays bound).</exception>
    /// <exception cref="ObjectDisposedException">The loop is (or gets) disposed.</exception>
    public async ValueTask<UdpSocketHandle> BindUdpAsync(IPAddress? localAddress, int port, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var bind = new BindUdpCommand(this, localAddress, port);
        await WriteUdpCommandAsync(bind, cancellationToken).ConfigureAwait(false);
        UdpSocketState state;
        try
        {
            state = await bind.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (bind.TryAbandon())
            {
                throw; // the loop will skip the command
            }

            // The loop got there first (it runs a command to the end without yielding): undo a successful bind so
            // nothing stays bound, then report the cancellation.
            UdpSocketState? bound = null;
            try
            {
                bound = await bind.Completion.Task.ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // The bind failed anyway.
            }

            if (bound is not null)
            {
                await CloseUdpAsync(bound).ConfigureAwait(false);
            }

            throw;
        }

        return new UdpSocketHandle(this, state);
    }

    /// <summary>
    /// Queues a datagram whose payload is already in a pooled buffer (at <see cref="NetstackCore.UdpPayloadHeadroom"/>)
    /// for the loop to send. Completes once queued: at once when the command channel has room, else when it has
    /// (application back-pressure). Takes ownership of <paramref name="payload"/> whatever the outcome.
    /// </summary>
    internal ValueTask SendUdpAsync(UdpSocketState socket, EndpointValue remote, PacketBuffer payload, CancellationToken cancellationToken)
    {
        var send = new SendUdpCommand(this, socket, remote, payload);
        return _kernel.TryPost(send) ? ValueTask.CompletedTask : SendUdpSlowAsync(send, payload, cancellationToken);
    }

    private async ValueTask SendUdpSlowAsync(SendUdpCommand send, PacketBuffer payload, CancellationToken cancellationToken)
    {
        try
        {
            await WriteUdpCommandAsync(send, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            payload.Return(); // never queued
            throw;
        }
    }

    /// <summary>Queues a command, waiting for room in the command channel (application back-pressure).</summary>
    private ValueTask WriteUdpCommandAsync(NetstackCommand command, CancellationToken cancellationToken) =>
        _kernel.PostAsync(command, cancellationToken);

    /// <summary>
    /// Unbinds <paramref name="socket"/> on the loop task and waits for it, so the port is free when this completes.
    /// When the loop is gone it returns at once: a stopped loop has closed every socket.
    /// </summary>
    internal async ValueTask CloseUdpAsync(UdpSocketState socket)
    {
        var close = new CloseUdpCommand(this, socket);
        try
        {
            await _kernel.PostAsync(close, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            return; // the loop ended (stopped or faulted)
        }

        await close.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Fails every socket after a loop failure: pending and later receives throw instead of waiting forever.</summary>
    private void FailUdpSockets(Exception failure) => _core.CloseAllUdp(failure);

    private static SocketException BindError(UdpBindResult result, IPAddress? localAddress, int port) => result switch
    {
        UdpBindResult.AddressInUse => new SocketException(
            (int)SocketError.AddressAlreadyInUse,
            $"UDP port {port} is already bound on {(localAddress is null ? "this node" : localAddress.ToString())}."),
        UdpBindResult.NoFreePort => new SocketException(
            (int)SocketError.AddressAlreadyInUse, "No free UDP port is left in the ephemeral range."),
        UdpBindResult.AddressNotAvailable => new SocketException(
            (int)SocketError.AddressNotAvailable, $"{localAddress} is not an address of this node."),
        _ => new SocketException((int)SocketError.InvalidArgument, $"Cannot bind UDP port {port}."),
    };

    /// <summary>Binds a socket on the loop task, unless the caller gave up first.</summary>
    private sealed class BindUdpCommand(NetstackLoop loop, IPAddress? localAddress, int port) : NetstackCommand
    {
        private const int Pending = 0;
        private const int Started = 1;
        private const int Abandoned = 2;
        private int _state;

        public TaskCompletionSource<UdpSocketState> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Called by a cancelled caller: true when the loop has not started the command and now never will.</summary>
        public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Pending) == Pending;

        public override void Execute(long now)
        {
            if (Interlocked.CompareExchange(ref _state, Started, Pending) != Pending)
            {
                return;
            }

            var result = loop._core.TryBindUdp(localAddress, port, out var socket);
            if (result == UdpBindResult.Bound)
            {
                Completion.TrySetResult(socket!);
            }
            else
            {
                Completion.TrySetException(BindError(result, localAddress, port));
            }
        }

        public override void Abandon(Exception reason) => Completion.TrySetException(reason);
    }

    /// <summary>Sends one datagram; the payload buffer belongs to the command until it runs.</summary>
    private sealed class SendUdpCommand(NetstackLoop loop, UdpSocketState socket, EndpointValue remote, PacketBuffer payload) : NetstackCommand
    {
        // Failures (socket closed meanwhile, outbound queue full) are counted by the core; the caller's send
        // completed when the command was queued, like a datagram socket's send that the network later drops.
        public override void Execute(long now) => loop._core.SendUdp(socket, remote, payload, now);

        public override void Abandon(Exception reason) => payload.Return();
    }

    /// <summary>Unbinds a socket.</summary>
    private sealed class CloseUdpCommand(NetstackLoop loop, UdpSocketState socket) : NetstackCommand
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(long now)
        {
            loop._core.CloseUdp(socket);
            Completion.TrySetResult();
        }

        // The loop is gone; stopping it closed every socket.
        public override void Abandon(Exception reason) => Completion.TrySetResult();
    }
}
