using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet.AspNetCore;

/// <summary>
/// A TCP port on a <see cref="TailnetServer"/>'s overlay addresses, as a Kestrel listen address. Only the tailnet
/// transport registered by <see cref="TailnetWebHostBuilderExtensions.UseTailnet(Microsoft.AspNetCore.Hosting.IWebHostBuilder, TailnetServer, int)"/>
/// binds it; the host's socket transport declines it, so no host socket is opened for it.
/// </summary>
public sealed class TailnetEndPoint : EndPoint
{
    /// <summary>Creates the address of <paramref name="port"/> on <paramref name="server"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not 1–65535.</exception>
    public TailnetEndPoint(TailnetServer server, int port)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Server = server;
        Port = port;
    }

    /// <summary>The node whose overlay addresses the port is opened on.</summary>
    public TailnetServer Server { get; }

    /// <summary>The TCP port on the tailnet.</summary>
    public int Port { get; }

    /// <summary>Not an IP socket address family: nothing that expects one (the host's sockets) should take it.</summary>
    public override AddressFamily AddressFamily => AddressFamily.Unspecified;

    /// <summary>
    /// The node's first overlay address with the port (<c>100.64.0.1:80</c>, <c>[fd7a::1]:80</c>): Kestrel shows it as
    /// <c>http://100.64.0.1:80</c>, which is the URL peers use. The listener accepts on all of the node's addresses.
    /// </summary>
    public override string ToString()
    {
        var addresses = Server.Addresses;
        return addresses.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"tailnet:{Port}")
            : new IPEndPoint(addresses[0], Port).ToString();
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TailnetEndPoint other && ReferenceEquals(other.Server, Server) && other.Port == Port;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Server, Port);
}
