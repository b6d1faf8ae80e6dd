using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TsNet.Services.Socks5;

/// <summary>
/// A UDP ASSOCIATE: a host UDP socket on loopback for the client, an overlay UDP socket for the tailnet, and two relay
/// loops between them. Datagrams are taken only from the client's address (and its declared port, when it named one);
/// fragments (FRAG ≠ 0) are dropped, since the proxy does not reassemble. It ends when the TCP control connection does.
/// </summary>
internal sealed class Socks5UdpAssociation : IAsyncDisposable
{
    /// <summary>The largest UDP payload; a relay buffer of this size never truncates a datagram.</summary>
    private const int MaxDatagramBytes = 65535;

    private readonly Socket _relay;
    private readonly TailnetUdpSocket _overlay;
    private readonly IPAddress _clientAddress;
    private readonly int _declaredPort;
    private readonly Socks5Context _context;

    /// <summary>Every drop is per datagram: one line per interval for this association, whatever the flood.</summary>
    private readonly LogRateLimiter _dropLog;
    private IPEndPoint? _clientEndPoint;

    public Socks5UdpAssociation(Socket relay, TailnetUdpSocket overlay, IPAddress clientAddress, int declaredPort, Socks5Context context)
    {
        _relay = relay;
        _overlay = overlay;
        _clientAddress = clientAddress;
        _declaredPort = declaredPort;
        _context = context;
        _dropLog = new LogRateLimiter(context.TimeProvider, LogRateLimiter.DefaultInterval);
    }

    /// <summary>Relays until <paramref name="control"/> ends (or either socket fails, or the node stops); then disposes itself.</summary>
    public async Task RunAsync(Stream control, CancellationToken nodeStopping)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(nodeStopping);
        try
        {
            var tasks = new[]
            {
                ClientToOverlayAsync(stop.Token),
                OverlayToClientAsync(stop.Token),
                WaitForControlCloseAsync(control, stop.Token),
            };
            await Task.WhenAny(tasks).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _relay.Dispose();
        await _overlay.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task WaitForControlCloseAsync(Stream control, CancellationToken cancellationToken)
    {
        var sink = new byte[256];
        try
        {
            while (await control.ReadAsync(sink, cancellationToken).ConfigureAwait(false) > 0)
            {
                // Nothing is expected on the control connection after the reply; whatever comes is ignored.
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closed either way.
        }
    }

    private async Task ClientToOverlayAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxDatagramBytes];
        EndPoint any = new IPEndPoint(_clientAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (true)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await _relay.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
                {
                    continue; // an ICMP error from an earlier send, or an oversized datagram: not fatal to the relay
                }

                var from = (IPEndPoint)received.RemoteEndPoint;
                if (!from.Address.Equals(_clientAddress) || (_declaredPort != 0 && from.Port != _declaredPort))
                {
                    if (_dropLog.ShouldLog(_context.Logger, LogLevel.Debug, out var suppressed))
                    {
                        Socks5Log.DatagramDropped(_context.Logger, $"from {from}, not the associated client", suppressed);
                    }

                    continue;
                }

                var datagram = buffer.AsMemory(0, received.ReceivedBytes);
                if (!Socks5UdpHeader.TryParse(datagram.Span, out var header))
                {
                    LogDropped("malformed header");
                    continue;
                }

                if (header.Fragment != 0)
                {
                    LogDropped("fragment (FRAG != 0)");
                    continue;
                }

                Volatile.Write(ref _clientEndPoint, from);
                await SendToOverlayAsync(header, datagram[header.PayloadOffset..], cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The association is ending.
        }
    }

    private async Task SendToOverlayAsync(Socks5UdpHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        try
        {
            var target = header.Host is { } host ? _context.Overlay.Resolve(host, header.Port) : new IPEndPoint(header.Address!, header.Port);
            if (target.Port == 0 || !_context.Overlay.HasRoute(target.Address))
            {
                if (_dropLog.ShouldLog(_context.Logger, LogLevel.Debug, out var suppressed))
                {
                    Socks5Log.DatagramDropped(_context.Logger, $"no route to {target}", suppressed);
                }

                return;
            }

            await _overlay.SendToAsync(payload, target, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or SocketException)
        {
            LogDropped(ex.Message);
        }
    }

    /// <summary>A drop whose reason is already a string: nothing is built for a line that is not written.</summary>
    private void LogDropped(string reason)
    {
        if (_dropLog.ShouldLog(_context.Logger, LogLevel.Debug, out var suppressed))
        {
            Socks5Log.DatagramDropped(_context.Logger, reason, suppressed);
        }
    }

    private async Task OverlayToClientAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[Socks5Protocol.MaxUdpReplyHeaderLength + MaxDatagramBytes];
        try
        {
            while (true)
            {
                var received = await _overlay.ReceiveFromAsync(buffer.AsMemory(Socks5Protocol.MaxUdpReplyHeaderLength), cancellationToken).ConfigureAwait(false);
                if (Volatile.Read(ref _clientEndPoint) is not { } client)
                {
                    LogDropped("reply before the client sent anything");
                    continue;
                }

                var source = (IPEndPoint)received.RemoteEndPoint;
                source = new IPEndPoint(Socks5Protocol.Normalize(source.Address), source.Port);
                var headerLength = Socks5Protocol.UdpHeaderPrefixLength + Socks5Protocol.AddressLength(source.Address);
                var start = Socks5Protocol.MaxUdpReplyHeaderLength - headerLength;
                Socks5UdpHeader.WriteReplyHeader(buffer.AsSpan(start, headerLength), source);
                await _relay.SendToAsync(buffer.AsMemory(start, headerLength + received.ReceivedBytes), SocketFlags.None, client, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The association is ending (or the node stopped and closed the overlay socket).
        }
    }
}
