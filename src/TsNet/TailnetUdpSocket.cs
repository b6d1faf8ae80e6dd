using System.Net;
using System.Net.Sockets;
using TsNet.Netstack;

namespace TsNet;

/// <summary>
/// A UDP socket on the tailnet, bound with <see cref="TailnetServer.BindUdpAsync"/> to a port on every overlay
/// address of its node. It behaves like an unconnected datagram <see cref="Socket"/> on Linux; all members are
/// thread-safe.
/// </summary>
/// <remarks>
/// <para><b>Sending</b> never fragments: a datagram must fit the tailnet MTU (1280 by default: up to 1252 payload
/// bytes over IPv4, 1232 over IPv6). The datagram goes out from the node's address of the destination's family.
/// A send completes once the datagram is queued inside the node; like any UDP send it may still be lost on the way.</para>
/// <para><b>Receiving</b>: each socket queues up to 512 datagrams (more are dropped and counted). A datagram larger
/// than the receive buffer is truncated to the buffer and the rest discarded, as on Linux (no error).</para>
/// <para><b>A peer that does not answer</b> (no WireGuard handshake completes): while the node tries the handshake,
/// datagrams to the addresses the peer routes wait in that peer's queue, at most 128 of them (the oldest is dropped
/// and counted as <c>wireguard.StagedQueueFull</c> in <see cref="TailnetStatus.Drops"/> when more arrive); they go
/// out when a session exists. Once the handshake bound (10 s, the one TCP dials have) has passed since the first
/// unanswered handshake initiation to the peer, sends to it fail at once with the same error as a TCP dial to it
/// (naming the peer, its key and endpoint and what to check) and are not queued. That lasts until a handshake with
/// the peer completes (the node keeps retrying every 5 s, also to a changed endpoint), the peer is removed, or the
/// node gives up on it (20 retries, about 100 s, without an answer: queued datagrams are dropped and counted as
/// <c>wireguard.HandshakeGaveUp</c>); after that, sends are queued again and start a new attempt.</para>
/// <para><b>Errors from the network</b>: an ICMP "port unreachable" about a datagram this socket sent is counted
/// but does not fail the socket or a later receive — a Linux socket that is not connected behaves the same.</para>
/// </remarks>
public sealed class TailnetUdpSocket : IAsyncDisposable
{
    private readonly UdpSocketHandle _handle;

    internal TailnetUdpSocket(UdpSocketHandle handle, IPEndPoint localEndPoint)
    {
        _handle = handle;
        LocalEndPoint = localEndPoint;
    }

    /// <summary>
    /// The bound port with the node's IPv4 overlay address (its IPv6 address when it has no IPv4 one). The socket
    /// receives datagrams sent to this port on any of the node's addresses.
    /// </summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The netstack's handle (counters, for tests).</summary>
    internal UdpSocketHandle Handle => _handle;

    /// <summary>
    /// Sends <paramref name="datagram"/> to <paramref name="remote"/> as one UDP datagram. Completes once the
    /// datagram is queued (waiting only when the node's command queue is full) and returns its length.
    /// </summary>
    /// <param name="datagram">The payload; copied before the call returns, so the memory may be reused at once.</param>
    /// <param name="remote">An IPv4 or IPv6 endpoint (an IPv4-mapped IPv6 address counts as IPv4).</param>
    /// <param name="cancellationToken">Cancels waiting for room in the node's command queue.</param>
    /// <returns>The number of bytes sent: the length of <paramref name="datagram"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remote"/> is null.</exception>
    /// <exception cref="ArgumentException">The datagram is larger than the MTU allows, or <paramref name="remote"/> is
    /// not an IPv4/IPv6 endpoint, has port 0, or has an unspecified address.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.NetworkUnreachable"/>: the node has no address of the
    /// remote's family, or ("no peer routes …") neither the node nor any peer's AllowedIPs contain the remote's
    /// address. The node's own addresses work like loopback. <see cref="SocketError.HostUnreachable"/>: the peer that
    /// routes the remote's address has not answered WireGuard handshakes for the handshake bound (the message names the
    /// peer, its key and endpoint and what to check; see the remarks); the datagram is not sent.</exception>
    /// <exception cref="ObjectDisposedException">The socket or its node is disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the
    /// datagram was queued (it is not sent).</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken = default) =>
        _handle.SendToAsync(datagram, remote, cancellationToken);

    /// <summary>
    /// Waits for a datagram and copies it into <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">Where the payload goes. A longer datagram is truncated to it (the rest is lost) and
    /// <see cref="SocketReceiveFromResult.ReceivedBytes"/> is the number of bytes copied, as with a .NET
    /// <see cref="Socket"/> on Linux. An empty buffer waits for a datagram and returns 0 without taking it.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled receive takes no datagram.</param>
    /// <returns>The bytes copied and the sender's endpoint. The same <see cref="IPEndPoint"/> instance may be
    /// returned for datagrams from the same sender; it is replaced if the caller changes it.</returns>
    /// <exception cref="ObjectDisposedException">The socket or its node is (or gets) disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _handle.ReceiveFromAsync(buffer, cancellationToken);

    /// <summary>
    /// Unbinds the port (it can be bound again once this completes), fails pending receives with
    /// <see cref="ObjectDisposedException"/> and discards queued datagrams. Idempotent.
    /// </summary>
    public ValueTask DisposeAsync() => _handle.DisposeAsync();

    /// <inheritdoc/>
    public override string ToString() => $"udp {LocalEndPoint}";
}
