using System.Net;

namespace TsNet.Netstack;

// The node's addresses change while it runs (a control server assigns and reassigns them). Listeners are keyed by
// port alone, so they cover every address the node has now or gets later; connections bound to an address the node
// no longer has are reset on both sides.
internal sealed partial class NetstackCore
{
    /// <summary>
    /// Makes <paramref name="addresses"/> the node's addresses. Every connection whose local address was one of the
    /// node's and is not any more is aborted (a RST goes to the peer, the app's stream fails as after a RST);
    /// connections a fallback handler claimed for addresses that were never ours are left alone.
    /// </summary>
    /// <returns>The number of connections reset.</returns>
    /// <exception cref="ArgumentException">An entry is not an IP address, or IPv6 with an MTU below 1280.</exception>
    public int SetAddresses(IReadOnlyList<IPAddress> addresses)
    {
        var next = new LocalAddresses(addresses);
        if (next.HasIpv6 && _options.Mtu < NetstackOptions.MinimumIpv6Mtu)
        {
            throw new ArgumentException($"IPv6 needs an MTU of at least {NetstackOptions.MinimumIpv6Mtu}.", nameof(addresses));
        }

        var previous = _addresses;
        _addresses = next;
        var reset = 0;
        foreach (var socket in _tcp.Values)
        {
            var local = socket.Connection.Endpoints.LocalAddress;
            if (IsLocal(previous, local) && !IsLocal(next, local))
            {
                socket.Connection.Abort();
                Touch(socket);
                reset++;
            }
        }

        return reset;
    }

    private static bool IsLocal(LocalAddresses addresses, Tcp.TcpAddress address) =>
        address.IsIpv4 ? addresses.IsLocal((uint)address.Value) : addresses.IsLocal(address.Value);
}
