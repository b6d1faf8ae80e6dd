using System.Net;
using System.Net.Sockets;

namespace TsNet.Services.Publishing;

/// <summary>
/// A UDP socket as the relay sees it, so one relay serves both directions: a host <see cref="Socket"/> or a
/// <see cref="TailnetUdpSocket"/>.
/// </summary>
internal abstract class DatagramChannel : IAsyncDisposable
{
    public abstract IPEndPoint LocalEndPoint { get; }

    /// <summary>The next datagram; errors a UDP socket may report about earlier sends (ICMP) are skipped.</summary>
    public abstract ValueTask<(int Bytes, IPEndPoint From)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint to, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

/// <summary>A host UDP socket.</summary>
internal sealed class HostDatagramChannel : DatagramChannel
{
    private readonly Socket _socket;
    private readonly EndPoint _anyRemote;

    private HostDatagramChannel(Socket socket)
    {
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _anyRemote = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
    }

    public override IPEndPoint LocalEndPoint { get; }

    /// <summary>A socket bound to <paramref name="local"/> (a published host port).</summary>
    public static HostDatagramChannel Bind(IPEndPoint local)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (local.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(local);
            return new HostDatagramChannel(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A socket connected to <paramref name="remote"/> (a session towards a host target): the kernel picks the local
    /// address and port and delivers only the target's datagrams.
    /// </summary>
    public static HostDatagramChannel Connect(IPEndPoint remote)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect(remote);
            return new HostDatagramChannel(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override async ValueTask<(int Bytes, IPEndPoint From)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, _anyRemote, cancellationToken).ConfigureAwait(false);
                return (result.ReceivedBytes, (IPEndPoint)result.RemoteEndPoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.MessageSize)
            {
                // An ICMP error about an earlier send (or an oversized datagram): the socket itself is fine.
            }
        }
    }

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint to, CancellationToken cancellationToken)
    {
        if (_socket.Connected)
        {
            await _socket.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _socket.SendToAsync(datagram, SocketFlags.None, to, cancellationToken).ConfigureAwait(false);
        }
    }

    public override ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A UDP socket on the tailnet.</summary>
internal sealed class OverlayDatagramChannel(TailnetUdpSocket socket) : DatagramChannel
{
    public override IPEndPoint LocalEndPoint => socket.LocalEndPoint;

    public override async ValueTask<(int Bytes, IPEndPoint From)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await socket.ReceiveFromAsync(buffer, cancellationToken).ConfigureAwait(false);
        return (result.ReceivedBytes, (IPEndPoint)result.RemoteEndPoint);
    }

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint to, CancellationToken cancellationToken) =>
        await socket.SendToAsync(datagram, to, cancellationToken).ConfigureAwait(false);

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await socket.DisposeAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The node went first: its sockets are gone with it.
        }
    }
}
