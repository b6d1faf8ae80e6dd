using System.Net;
using System.Net.Sockets;

namespace TsNet.InteropTests.Harness;

/// <summary>Picks UDP ports that are free on both IPv4 and IPv6 wildcard addresses (wireguard-go binds both).</summary>
public static class UdpPorts
{
    // Below Linux's default ephemeral range (32768+), so a port picked here is not handed out to a socket bound to
    // port 0 (e.g. the TsNet node's) between the check and wireguard-go's bind.
    private const int RangeStart = 20000;
    private const int RangeEnd = 32000;

    /// <summary>A port that was free a moment ago (bounded number of attempts, then an ephemeral port).</summary>
    public static int GetFree()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(RangeStart, RangeEnd);
            if (IsFree(port))
            {
                return port;
            }
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>True when UDP <paramref name="port"/> can be bound on 0.0.0.0 (and on [::] where IPv6 is usable).</summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            v4.Bind(new IPEndPoint(IPAddress.Any, port));
        }
        catch (SocketException)
        {
            return false;
        }

        if (!Socket.OSSupportsIPv6)
        {
            return true;
        }

        try
        {
            using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            v6.DualMode = false;
            v6.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported or SocketError.ProtocolNotSupported)
        {
            return true; // IPv6 disabled on this host: only the IPv4 socket matters.
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
