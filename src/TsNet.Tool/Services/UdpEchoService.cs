using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Services;

/// <summary><c>--udp-echo PORT</c>: each datagram received on the tailnet port goes back, unchanged, to its sender.</summary>
internal sealed class UdpEchoService : ITailnetService
{
    // The largest datagram the node can carry at MTU 1280 is 1252 bytes; 64 KiB takes anything a larger MTU allows.
    private const int BufferBytes = 64 * 1024;

    private readonly TailnetUdpSocket _socket;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private int _disposed;

    private UdpEchoService(TailnetUdpSocket socket, ILogger logger)
    {
        _socket = socket;
        _logger = logger;
        Description = $"udp-echo on udp/{socket.LocalEndPoint.Port}";
        _loop = Task.Run(EchoLoopAsync);
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>Binds <paramref name="port"/> on <paramref name="node"/> and starts echoing.</summary>
    public static async Task<UdpEchoService> StartAsync(TailnetServer node, int port, ILogger logger, CancellationToken cancellationToken)
    {
        var socket = await node.BindUdpAsync(port, cancellationToken).ConfigureAwait(false);
        ServiceLog.Listening(logger, "udp-echo", "udp", port);
        return new UdpEchoService(socket, logger);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _socket.DisposeAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task EchoLoopAsync()
    {
        var buffer = new byte[BufferBytes];
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            var remote = (IPEndPoint)received.RemoteEndPoint;
            try
            {
                await _socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), remote, _stopping.Token).ConfigureAwait(false);
                ServiceLog.DatagramEchoed(_logger, "udp-echo", received.ReceivedBytes, remote.ToString());
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (Exception e) when (e is ArgumentException or SocketException or InvalidOperationException)
            {
                ServiceLog.EchoFailed(_logger, "udp-echo", remote.ToString(), e);
            }
        }
    }
}
