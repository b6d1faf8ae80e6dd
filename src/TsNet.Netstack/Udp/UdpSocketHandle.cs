using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace TsNet.Netstack;

/// <summary>
/// The application's side of a bound UDP socket (the public <c>TailnetUdpSocket</c> wraps it). Thread-safe.
/// </summary>
/// <remarks>
/// <para>Send copies the payload into a pooled buffer on the caller's thread, checks what can be checked without the
/// core (family, port, size) and queues a command for the loop; it completes once the command is queued, never
/// waiting for the loop to run it.</para>
/// <para>Receive reads the socket's own queue directly. A datagram already queued is taken synchronously with no
/// allocation beyond a new <see cref="IPEndPoint"/> for a remote not seen lately (<see cref="UdpEndpointCache"/>).
/// Semantics follow a .NET <see cref="Socket"/> on Linux: a datagram larger than the buffer is truncated to it — the
/// rest is discarded and <see cref="SocketReceiveFromResult.ReceivedBytes"/> is the number of bytes copied; an empty
/// buffer waits for a datagram and returns 0 without taking it. A cancelled receive takes no datagram.</para>
/// </remarks>
internal sealed class UdpSocketHandle : IAsyncDisposable
{
    /// <summary>The name disposed-object errors carry: the public type this handle implements.</summary>
    private const string PublicTypeName = "TsNet.TailnetUdpSocket";

    private readonly NetstackLoop _loop;
    private readonly UdpSocketState _state;
    private readonly UdpEndpointCache _endpoints = new();
    private readonly Lock _gate = new();
    private Task? _disposeTask;
    private volatile bool _disposed;

    internal UdpSocketHandle(NetstackLoop loop, UdpSocketState state)
    {
        _loop = loop;
        _state = state;
    }

    /// <summary>The bound port.</summary>
    public int LocalPort => _state.LocalPort;

    /// <summary>The bound address; null when bound to every address of the node.</summary>
    public IPAddress? LocalAddress => _state.IsAnyAddress
        ? null
        : new EndpointValue(_state.LocalAddress, _state.IsIpv6, _state.LocalPort).ToAddress();

    /// <summary>The core's state of this socket (counters; for tests and diagnostics).</summary>
    internal UdpSocketState State => _state;

    /// <summary>
    /// Asked last before a datagram is queued: the error to throw when nothing routes the destination (the owner
    /// knows the peers, the netstack does not), or null to send.
    /// </summary>
    internal Func<IPEndPoint, Exception?>? RouteCheck { get; set; }

    /// <summary>
    /// Queues <paramref name="datagram"/> for <paramref name="remote"/>; completes once queued and returns its length.
    /// </summary>
    /// <exception cref="ArgumentException">The datagram is larger than the MTU allows, the endpoint is not IPv4/IPv6,
    /// its port is 0 or its address unspecified.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.NetworkUnreachable"/>: no local address of the
    /// remote's family to send from.</exception>
    /// <exception cref="ObjectDisposedException">The socket is disposed (or its netstack stopped).</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ThrowIfClosed();
        if (!EndpointValue.TryFrom(remote, out var value))
        {
            throw new ArgumentException("Only IPv4 and IPv6 endpoints can be sent to.", nameof(remote));
        }

        if (value.Port == 0)
        {
            throw new ArgumentException("Cannot send to port 0.", nameof(remote));
        }

        if (value.IsUnspecified)
        {
            throw new ArgumentException("Cannot send to the unspecified address.", nameof(remote));
        }

        if (!_loop.HasLocalAddress(value.IsIpv6) || (!_state.IsAnyAddress && _state.IsIpv6 != value.IsIpv6))
        {
            throw new SocketException(
                (int)SocketError.NetworkUnreachable,
                $"No local {(value.IsIpv6 ? "IPv6" : "IPv4")} address to send to {remote} from.");
        }

        int max = _loop.MaxUdpPayload(value.IsIpv6);
        if (datagram.Length > max)
        {
            throw new ArgumentException(
                $"The datagram ({datagram.Length} bytes) is larger than the {max} bytes that fit the tailnet MTU; TsNet does not fragment.",
                nameof(datagram));
        }

        if (RouteCheck?.Invoke(remote) is { } noRoute)
        {
            throw noRoute;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        var buffer = _loop.Pool.Rent(NetstackCore.UdpPayloadHeadroom(value.IsIpv6));
        datagram.Span.CopyTo(buffer.Append(datagram.Length));
        var queued = _loop.SendUdpAsync(_state, value, buffer, cancellationToken);
        return queued.IsCompletedSuccessfully ? new ValueTask<int>(datagram.Length) : AwaitQueuedAsync(queued, datagram.Length);
    }

    /// <summary>
    /// Waits for a datagram and copies it into <paramref name="buffer"/> (truncated to fit; see the remarks).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket is (or gets) disposed, or its netstack stopped.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; no datagram was taken.</exception>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<SocketReceiveFromResult>(cancellationToken);
        }

        if (!buffer.IsEmpty && _state.Receive.TryRead(out var datagram))
        {
            return new ValueTask<SocketReceiveFromResult>(Complete(datagram, buffer.Span));
        }

        return ReceiveSlowAsync(buffer, cancellationToken);
    }

    /// <summary>Unbinds the socket (the port is free once this completes) and fails pending receives with
    /// <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposeTask is null)
            {
                _disposed = true;

                // Fail waiting receives now rather than when the loop gets to the unbind.
                _state.Close(new ObjectDisposedException(PublicTypeName));
                _disposeTask = _loop.CloseUdpAsync(_state).AsTask();
            }

            return new ValueTask(_disposeTask);
        }
    }

    private static async ValueTask<int> AwaitQueuedAsync(ValueTask queued, int length)
    {
        await queued.ConfigureAwait(false);
        return length;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SocketReceiveFromResult> ReceiveSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var queue = _state.Receive;
        try
        {
            if (buffer.IsEmpty)
            {
                // Like a .NET Socket on Linux: a zero-byte receive waits for a datagram and leaves it queued.
                while (true)
                {
                    if (queue.TryPeek(out var next))
                    {
                        return new SocketReceiveFromResult { ReceivedBytes = 0, RemoteEndPoint = _endpoints.Get(next.Remote) };
                    }

                    if (!await queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        throw ClosedException(null);
                    }
                }
            }

            var datagram = await queue.ReadAsync(cancellationToken).ConfigureAwait(false);
            return Complete(datagram, buffer.Span);
        }
        catch (ChannelClosedException e)
        {
            throw ClosedException(e.InnerException);
        }
        catch (Exception e) when (e is not OperationCanceledException && _state.IsClosed)
        {
            throw ClosedException(e);
        }
    }

    private SocketReceiveFromResult Complete(UdpReceivedDatagram datagram, Span<byte> destination)
    {
        var payload = datagram.Payload;
        int copied = Math.Min(payload.Length, destination.Length);
        payload.Span[..copied].CopyTo(destination);
        payload.Return();
        return new SocketReceiveFromResult { ReceivedBytes = copied, RemoteEndPoint = _endpoints.Get(datagram.Remote) };
    }

    private void ThrowIfClosed()
    {
        if (_disposed || _state.IsClosed)
        {
            throw ClosedException(_state.CloseReason);
        }
    }

    /// <summary>Disposed, or the netstack stopped: <see cref="ObjectDisposedException"/>; the loop failed:
    /// <see cref="InvalidOperationException"/> with the loop's failure inside.</summary>
    private Exception ClosedException(Exception? reason) =>
        !_disposed && reason is not null and not ObjectDisposedException
            ? new InvalidOperationException("The netstack loop failed.", reason is InvalidOperationException { InnerException: { } inner } ? inner : reason)
            : new ObjectDisposedException(PublicTypeName);
}
