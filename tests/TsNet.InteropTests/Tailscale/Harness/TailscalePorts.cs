using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Free ports for the Tailscale programs, found by binding (bind-probe). A port is free only a moment; the starters
/// retry once with new ports when a program reports "address already in use" (the race with another process).
/// Ports handed out in this run are never handed out again, so two programs started back to back cannot be given the
/// same port before either has bound it.
/// </summary>
public static class TailscalePorts
{
    // Below Linux's default ephemeral range (32768+), so no socket bound to port 0 takes it between probe and bind.
    private const int RangeStart = 20000;
    private const int RangeEnd = 32000;

    private static readonly HashSet<int> HandedOut = new();

    /// <summary>A TCP port free on 127.0.0.1 a moment ago.</summary>
    public static int FreeTcp() => Pick(IsTcpFree);

    /// <summary>A UDP port free on the wildcard addresses a moment ago (tailscaled and derper's STUN bind those).</summary>
    public static int FreeUdp() => Pick(UdpPorts.IsFree);

    /// <summary>True when TCP <paramref name="port"/> can be bound on 127.0.0.1.</summary>
    public static bool IsTcpFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>True when the text of a failed start says a bind lost the race for its port.</summary>
    public static bool IsBindConflict(string text) => text.Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    private static int Pick(Func<int, bool> isFree)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var port = Random.Shared.Next(RangeStart, RangeEnd);
            lock (HandedOut)
            {
                if (HandedOut.Contains(port) || !isFree(port))
                {
                    continue;
                }

                HandedOut.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"no free port found in {RangeStart}-{RangeEnd} after 500 attempts");
    }
}
