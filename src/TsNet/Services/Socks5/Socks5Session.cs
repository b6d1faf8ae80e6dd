using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TsNet.Services;

namespace TsNet.Services.Socks5;

/// <summary>
/// One client connection: greeting, RFC 1929 authentication and the request, all within the negotiation deadline, then
/// either a spliced CONNECT or a UDP association that lives as long as this connection. Every field is read with an
/// exact-length read, so pipelined clients lose nothing and truncated ones end in a close.
/// </summary>
internal sealed class Socks5Session
{
    /// <summary>After a failure reply the proxy reads (and discards) what the client still sends, so closing the socket
    /// does not turn into a RST that could destroy the reply in flight; bounded in time and bytes.</summary>
    private static readonly TimeSpan s_failureDrainLimit = TimeSpan.FromSeconds(2);
    private const int FailureDrainMaxBytes = 64 * 1024;

    private readonly Socket _client;
    private readonly NetworkStream _stream;
    private readonly Socks5Context _context;
    private readonly string _clientName;

    private Socks5Session(Socket client, Socks5Context context)
    {
        _client = client;
        _stream = new NetworkStream(client, ownsSocket: false);
        _context = context;
        _clientName = client.RemoteEndPoint?.ToString() ?? "?";
    }

    /// <summary>Serves <paramref name="client"/> until it is done; always disposes it.</summary>
    /// <param name="client">The accepted loopback connection.</param>
    /// <param name="context">The proxy's shared state.</param>
    /// <param name="stopNegotiating">Cancelled when the proxy is disposed: sessions still negotiating end, spliced ones do not.</param>
    /// <param name="nodeStopping">Cancelled when the node stops: everything ends.</param>
    public static async Task RunAsync(Socket client, Socks5Context context, CancellationToken stopNegotiating, CancellationToken nodeStopping)
    {
        var session = new Socks5Session(client, context);
        try
        {
            await session.RunCoreAsync(stopNegotiating, nodeStopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Socks5Log.NegotiationClosed(context.Logger, session._clientName, ex.GetType().Name + ": " + ex.Message);
        }
        catch (Exception ex)
        {
            Socks5Log.SessionFailed(context.Logger, session._clientName, ex);
        }
        finally
        {
            await session._stream.DisposeAsync().ConfigureAwait(false);
            client.Dispose();
        }
    }

    private async Task RunCoreAsync(CancellationToken stopNegotiating, CancellationToken nodeStopping)
    {
        TailnetConnection? connection = null;
        Socks5UdpAssociation? association = null;
        using (var deadline = new CancellationTokenSource(_context.NegotiationTimeout, _context.TimeProvider))
        using (var negotiation = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stopNegotiating, nodeStopping))
        {
            var established = await NegotiateAsync(negotiation.Token, deadline, nodeStopping).ConfigureAwait(false);
            connection = established as TailnetConnection;
            association = established as Socks5UdpAssociation;
        }

        if (connection is not null)
        {
            // The same splice as port publishing: FIN passed on as FIN, a reset or the node stopping resets both sides.
            await StreamSplice.RunAsync(new HostSpliceEnd(_client), new OverlaySpliceEnd(connection), nodeStopping).ConfigureAwait(false);
        }
        else if (association is not null)
        {
            await association.RunAsync(_stream, nodeStopping).ConfigureAwait(false);
        }
    }

    /// <returns>The overlay connection of a CONNECT, the association of a UDP ASSOCIATE, or null when the session ended.</returns>
    private async Task<object?> NegotiateAsync(CancellationToken cancellationToken, CancellationTokenSource deadline, CancellationToken nodeStopping)
    {
        var buffer = new byte[byte.MaxValue + 2];

        // Greeting: VER NMETHODS METHODS.
        await _stream.ReadExactlyAsync(buffer.AsMemory(0, 2), cancellationToken).ConfigureAwait(false);
        if (buffer[0] != Socks5Protocol.Version)
        {
            Socks5Log.NegotiationClosed(_context.Logger, _clientName, $"greeting version {buffer[0]} is not 5");
            return null;
        }

        int methodCount = buffer[1];
        await _stream.ReadExactlyAsync(buffer.AsMemory(0, methodCount), cancellationToken).ConfigureAwait(false);
        if (Array.IndexOf(buffer, Socks5Protocol.MethodUserPassword, 0, methodCount) < 0)
        {
            await FailAsync([Socks5Protocol.Version, Socks5Protocol.MethodNoneAcceptable], "no acceptable authentication method", nodeStopping).ConfigureAwait(false);
            return null;
        }

        await _stream.WriteAsync(new byte[] { Socks5Protocol.Version, Socks5Protocol.MethodUserPassword }, cancellationToken).ConfigureAwait(false);

        // RFC 1929: VER ULEN UNAME PLEN PASSWD. A wrong sub-version or empty fields are wrong credentials, not a crash.
        await _stream.ReadExactlyAsync(buffer.AsMemory(0, 2), cancellationToken).ConfigureAwait(false);
        var authVersion = buffer[0];
        var username = new byte[buffer[1]];
        await _stream.ReadExactlyAsync(username, cancellationToken).ConfigureAwait(false);
        await _stream.ReadExactlyAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
        var password = new byte[buffer[0]];
        await _stream.ReadExactlyAsync(password, cancellationToken).ConfigureAwait(false);
        if (!_context.Credentials.Matches(username, password) | authVersion != Socks5Protocol.AuthVersion)
        {
            Socks5Log.AuthenticationFailed(_context.Logger, _clientName);
            await FailAsync([Socks5Protocol.AuthVersion, Socks5Protocol.AuthFailure], "authentication failed", nodeStopping).ConfigureAwait(false);
            return null;
        }

        await _stream.WriteAsync(new byte[] { Socks5Protocol.AuthVersion, Socks5Protocol.AuthSuccess }, cancellationToken).ConfigureAwait(false);

        // Request: VER CMD RSV ATYP DST.ADDR DST.PORT (RSV is not checked: socks5.md §5.5).
        await _stream.ReadExactlyAsync(buffer.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
        if (buffer[0] != Socks5Protocol.Version)
        {
            Socks5Log.NegotiationClosed(_context.Logger, _clientName, $"request version {buffer[0]} is not 5");
            return null;
        }

        var command = buffer[1];
        IPAddress? address = null;
        string? host = null;
        switch (buffer[3])
        {
            case Socks5Protocol.AddressIpv4:
                await _stream.ReadExactlyAsync(buffer.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
                address = new IPAddress(buffer.AsSpan(0, 4));
                break;
            case Socks5Protocol.AddressIpv6:
                await _stream.ReadExactlyAsync(buffer.AsMemory(0, 16), cancellationToken).ConfigureAwait(false);
                address = Socks5Protocol.Normalize(new IPAddress(buffer.AsSpan(0, 16)));
                break;
            case Socks5Protocol.AddressDomain:
                await _stream.ReadExactlyAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
                int nameLength = buffer[0];
                await _stream.ReadExactlyAsync(buffer.AsMemory(0, nameLength), cancellationToken).ConfigureAwait(false);
                host = Encoding.ASCII.GetString(buffer, 0, nameLength);
                break;
            default:
                await RefuseAsync(Socks5Reply.AddressTypeNotSupported, $"address type {buffer[3]}", nodeStopping).ConfigureAwait(false);
                return null;
        }

        await _stream.ReadExactlyAsync(buffer.AsMemory(0, 2), cancellationToken).ConfigureAwait(false);
        var port = BinaryPrimitives.ReadUInt16BigEndian(buffer);

        switch (command)
        {
            case Socks5Protocol.CommandConnect:
                return await ConnectAsync(address, host, port, cancellationToken, deadline, nodeStopping).ConfigureAwait(false);
            case Socks5Protocol.CommandUdpAssociate:
                return await AssociateAsync(port, cancellationToken, nodeStopping).ConfigureAwait(false);
            default:
                await RefuseAsync(Socks5Reply.CommandNotSupported, command == Socks5Protocol.CommandBind ? "BIND" : $"command {command}", nodeStopping).ConfigureAwait(false);
                return null;
        }
    }

    private async Task<TailnetConnection?> ConnectAsync(
        IPAddress? address, string? host, int port, CancellationToken cancellationToken, CancellationTokenSource negotiationDeadline, CancellationToken nodeStopping)
    {
        if (host is { Length: 0 })
        {
            await RefuseAsync(Socks5Reply.HostUnreachable, "empty domain name", nodeStopping).ConfigureAwait(false);
            return null;
        }

        IPEndPoint target;
        if (host is not null)
        {
            try
            {
                target = _context.Overlay.Resolve(host, port);
            }
            catch (ArgumentException ex)
            {
                await RefuseDialAsync(host + ":" + port.ToString(CultureInfo.InvariantCulture), Socks5Reply.HostUnreachable, ex.Message, nodeStopping).ConfigureAwait(false);
                return null;
            }
        }
        else
        {
            target = new IPEndPoint(address!, port);
        }

        target.Address = Socks5Protocol.Normalize(target.Address);
        if (port == 0)
        {
            await RefuseAsync(Socks5Reply.GeneralFailure, "port 0", nodeStopping).ConfigureAwait(false);
            return null;
        }

        if (!_context.Overlay.HasRoute(target.Address))
        {
            await RefuseDialAsync(target, Socks5Reply.HostUnreachable, $"no peer routes {target.Address}: it is not one of this node's addresses and no peer's AllowedIPs contain it", nodeStopping).ConfigureAwait(false);
            return null;
        }

        TailnetConnection connection;
        var dialStarted = _context.TimeProvider.GetTimestamp();
        using (var dialDeadline = new CancellationTokenSource(_context.DialTimeout, _context.TimeProvider))
        using (var dial = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, dialDeadline.Token))
        {
            try
            {
                connection = await _context.Overlay.ConnectTcpAsync(target, dial.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!nodeStopping.IsCancellationRequested && (dialDeadline.IsCancellationRequested || negotiationDeadline.IsCancellationRequested))
            {
                // Our deadline and the node's handshake bound may end the same wait: a peer without a session gets the
                // bound's reply (host unreachable) whichever fired first; TTL expired is for a host that did not answer.
                var waited = _context.TimeProvider.GetElapsedTime(dialStarted);
                var noHandshake = await ExplainDialTimeoutAsync(target.Address, waited, nodeStopping).ConfigureAwait(false);
                await (noHandshake is null
                    ? RefuseDialAsync(target, Socks5Reply.TtlExpired, string.Create(CultureInfo.InvariantCulture, $"no answer from the host within {waited.TotalSeconds:0.#} s (the peer has a WireGuard session)"), nodeStopping)
                    : RefuseDialAsync(target, Socks5Reply.HostUnreachable, noHandshake.Message, nodeStopping)).ConfigureAwait(false);
                return null;
            }
            catch (SocketException ex)
            {
                await RefuseDialAsync(target, ReplyFor(ex.SocketErrorCode), ex.Message, nodeStopping).ConfigureAwait(false);
                return null;
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or ObjectDisposedException)
            {
                await RefuseDialAsync(target, Socks5Reply.GeneralFailure, ex.Message, nodeStopping).ConfigureAwait(false);
                return null;
            }
        }

        try
        {
            await _stream.WriteAsync(Socks5Protocol.SuccessReply(connection.LocalEndPoint), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            connection.Abort();
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Socks5Log.Connected(_context.Logger, _clientName, target.ToString(), connection.LocalEndPoint.ToString());
        return connection;
    }

    private async Task<Socks5UdpAssociation?> AssociateAsync(int declaredPort, CancellationToken cancellationToken, CancellationToken nodeStopping)
    {
        // Datagrams must come from the control connection's address (on loopback a declared address adds nothing to
        // that); a declared port narrows it to one socket (RFC 1928 §7).
        var clientAddress = ((IPEndPoint)_client.RemoteEndPoint!).Address;
        var relay = new Socket(_context.ListenAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        TailnetUdpSocket overlay;
        try
        {
            relay.Bind(new IPEndPoint(_context.ListenAddress, 0));
            overlay = await _context.Overlay.BindUdpAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or InvalidOperationException or ObjectDisposedException)
        {
            relay.Dispose();
            await RefuseAsync(Socks5Reply.GeneralFailure, "UDP relay: " + ex.Message, nodeStopping).ConfigureAwait(false);
            return null;
        }

        var association = new Socks5UdpAssociation(relay, overlay, clientAddress, declaredPort, _context);
        try
        {
            await _stream.WriteAsync(Socks5Protocol.SuccessReply((IPEndPoint)relay.LocalEndPoint!), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await association.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Socks5Log.Associated(_context.Logger, _clientName, relay.LocalEndPoint!.ToString()!);
        return association;
    }

    private async ValueTask<SocketException?> ExplainDialTimeoutAsync(IPAddress address, TimeSpan waited, CancellationToken nodeStopping)
    {
        try
        {
            return await _context.Overlay.ExplainDialTimeoutAsync(address, waited, nodeStopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The node is stopping or down: the plain timeout reply is all that is left to say.
            return null;
        }
    }

    private static Socks5Reply ReplyFor(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => Socks5Reply.ConnectionRefused,
        SocketError.TimedOut => Socks5Reply.TtlExpired,
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.AddressNotAvailable => Socks5Reply.HostUnreachable,
        _ => Socks5Reply.GeneralFailure,
    };

    /// <summary>Refuses a CONNECT whose target cannot be reached, logging why where a user looks.</summary>
    private Task RefuseDialAsync(object target, Socks5Reply reply, string reason, CancellationToken nodeStopping)
    {
        Socks5Log.DialFailed(_context.Logger, _clientName, target.ToString()!, ((byte)reply).ToString("x2", CultureInfo.InvariantCulture), reason);
        return FailAsync(Socks5Protocol.FailureReply(reply), $"dial to {target}: {reason}", nodeStopping);
    }

    private Task RefuseAsync(Socks5Reply reply, string reason, CancellationToken nodeStopping)
    {
        Socks5Log.Refused(_context.Logger, _clientName, ((byte)reply).ToString("x2", CultureInfo.InvariantCulture), reason);
        return FailAsync(Socks5Protocol.FailureReply(reply), reason, nodeStopping);
    }

    /// <summary>Sends <paramref name="reply"/>, then FIN, then reads what the client still sends until it closes (bounded).</summary>
    private async Task FailAsync(byte[] reply, string reason, CancellationToken nodeStopping)
    {
        using var drainLimit = new CancellationTokenSource(s_failureDrainLimit, _context.TimeProvider);
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(drainLimit.Token, nodeStopping);
        try
        {
            await _stream.WriteAsync(reply, drain.Token).ConfigureAwait(false);
            _client.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            for (var total = 0; total < FailureDrainMaxBytes;)
            {
                var read = await _stream.ReadAsync(sink, drain.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or kept sending: the close below ends it either way.
        }

        Socks5Log.NegotiationClosed(_context.Logger, _clientName, reason);
    }
}
