using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Benchmarks.Relay;

/// <summary>
/// The baseline for the relay benchmark: one loopback UDP socket that forwards each datagram to the destination mapped
/// for its source port — the same receive → look up → send loop and socket settings as the relay server, without
/// Geneve parsing, VNI lookup or address checks.
/// </summary>
internal sealed class PlainUdpForwarder : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly SocketAddress?[] _destinations = new SocketAddress?[65536];
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public static PlainUdpForwarder Start()
    {
        var forwarder = new PlainUdpForwarder();
        forwarder._socket.ReceiveBufferSize = 4 * 1024 * 1024;
        forwarder._socket.SendBufferSize = 4 * 1024 * 1024;
        forwarder._socket.Blocking = false;
        forwarder._socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        forwarder._loop = Task.Run(forwarder.LoopAsync);
        return forwarder;
    }

    public void Map(IPEndPoint source, IPEndPoint destination) => _destinations[source.Port] = destination.Serialize();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536);
        var source = new SocketAddress(AddressFamily.InterNetwork);
        while (!_stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, source, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            // sockaddr_in: family (2 bytes), then the port in network byte order.
            var port = BinaryPrimitives.ReadUInt16BigEndian(source.Buffer.Span[2..]);
            if (_destinations[port] is { } destination)
            {
                try
                {
                    _socket.SendTo(buffer.AsSpan(0, received), SocketFlags.None, destination);
                }
                catch (SocketException)
                {
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        }
    }
}
