using System.Net;
using System.Text;

namespace TsNet;

/// <summary>
/// Options of <see cref="TailnetServer.StartLoopbackProxyAsync"/>. Secure by default: a loopback address, an ephemeral
/// port, a random password, bounded negotiation and connection count. Read once when the proxy starts.
/// </summary>
public sealed class LoopbackProxyOptions
{
    /// <summary>
    /// The address and port to listen on: <c>127.0.0.1</c> or <c>::1</c> only (other processes on the host can reach a
    /// loopback port, so it still requires credentials). Port 0 picks an ephemeral port. Default <c>127.0.0.1:0</c>.
    /// </summary>
    public IPEndPoint EndPoint { get; set; } = new(IPAddress.Loopback, 0);

    /// <summary>
    /// The RFC 1929 password (1–255 UTF-8 bytes). Null (the default): 16 random bytes as 32 lowercase hex characters,
    /// new for every start.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>Time a client has for greeting, authentication, request and the overlay dial together. Default 30 s.</summary>
    public TimeSpan NegotiationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Time the overlay dial of a CONNECT may take. Default 10 s. When it runs out the client gets reply 0x06 (TTL
    /// expired) if the peer that routes the target has a WireGuard session (the host behind it did not answer), and
    /// 0x04 (host unreachable) if it has none. A peer with which no handshake completes gets that 0x04 at once when
    /// the node's handshake bound (10 s) ends the dial, whichever of the two comes first: the reply does not depend on
    /// which timer fired.
    /// </summary>
    public TimeSpan DialTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Client connections served at once (negotiating, spliced or holding a UDP association). At the cap the proxy stops
    /// accepting until one ends; further clients wait in the host's listen backlog rather than being refused. Default 256.
    /// </summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>Checks the options; returns the endpoint to bind.</summary>
    /// <exception cref="ArgumentException">Not a loopback address, or the password is empty or longer than 255 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timeout is not positive or the connection cap is below 1.</exception>
    internal IPEndPoint Validate()
    {
        ArgumentNullException.ThrowIfNull(EndPoint, nameof(EndPoint));
        if (!EndPoint.Address.Equals(IPAddress.Loopback) && !EndPoint.Address.Equals(IPAddress.IPv6Loopback))
        {
            throw new ArgumentException(
                $"The SOCKS5 proxy binds 127.0.0.1 or ::1 only (it would otherwise offer the tailnet to other hosts); got {EndPoint.Address}.",
                nameof(EndPoint));
        }

        if (Password is { } password && (password.Length == 0 || Encoding.UTF8.GetByteCount(password) > byte.MaxValue))
        {
            throw new ArgumentException("The SOCKS5 password must be 1-255 bytes in UTF-8 (RFC 1929).", nameof(Password));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(NegotiationTimeout, TimeSpan.Zero, nameof(NegotiationTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DialTimeout, TimeSpan.Zero, nameof(DialTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        return new IPEndPoint(EndPoint.Address, EndPoint.Port);
    }
}
