using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet;

// Checks a dial makes before anything is sent, so a dial that cannot work fails at once and says why.
public sealed partial class TailnetServer
{
    /// <summary>
    /// Throws when neither the node itself nor any peer's AllowedIPs covers <paramref name="address"/>: without a
    /// route the packets would only be dropped by the dataplane, and the dial would wait out its whole timeout
    /// (127 s of SYN retries for TCP) to report a bare "timed out".
    /// </summary>
    /// <exception cref="SocketException"><see cref="SocketError.NetworkUnreachable"/>, with a message naming the address;
    /// <see cref="SocketError.HostUnreachable"/> when the peer's node key expired.</exception>
    internal void EnsureOverlayRoute(IPAddress address)
    {
        var target = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (!HasOverlayRoute(target))
        {
            throw NoRouteException(address);
        }

        EnsurePeerKeyNotExpired(target);
    }

    /// <summary>
    /// The error of a dial to an address no peer routes; built only when a dial fails. The advice depends on the mode:
    /// static peers are the user's own AllowedIPs, tailnet peers' routes come from the coordination server.
    /// </summary>
    internal SocketException NoRouteException(IPAddress address) => new(
        (int)SocketError.NetworkUnreachable,
        string.Format(
            CultureInfo.InvariantCulture,
            _options.ControlUrl is null
                ? "no peer routes {0}: it is not one of this node's addresses and no peer's AllowedIPs contain it (add it to the AllowedIPs of the peer that should receive it)."
                : "no peer routes {0}: it is not one of this node's addresses, no tailnet node has it, and no route to it is in use (a subnet router must advertise it and the server approve it; this node uses such routes only with AcceptRoutes).",
            address));
}
