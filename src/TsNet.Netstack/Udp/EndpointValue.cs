using System.Net;
using System.Net.Sockets;
using TsNet.Packets;

namespace TsNet.Netstack;

/// <summary>
/// An IP address and port as plain numbers, so the netstack can key, compare and store endpoints without allocating
/// (an <see cref="IPEndPoint"/> is made only at the application edge). IPv4 addresses sit in the low 32 bits.
/// </summary>
/// <param name="Address">Big-endian address number (an IPv4 address in the low 32 bits).</param>
/// <param name="IsIpv6">True for an IPv6 address.</param>
/// <param name="Port">Port number.</param>
internal readonly record struct EndpointValue(UInt128 Address, bool IsIpv6, ushort Port)
{
    /// <summary>
    /// Converts an <see cref="IPEndPoint"/>; an IPv4-mapped IPv6 address becomes the IPv4 address it maps (like a
    /// dual-stack socket). False for other address families.
    /// </summary>
    public static bool TryFrom(IPEndPoint endpoint, out EndpointValue value)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var address = endpoint.Address;
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        value = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => new EndpointValue(Ipv4Header.ToValue(address), IsIpv6: false, (ushort)endpoint.Port),
            AddressFamily.InterNetworkV6 => new EndpointValue(Ipv6Header.ToValue(address), IsIpv6: true, (ushort)endpoint.Port),
            _ => default,
        };
        return address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
    }

    /// <summary>True for 0.0.0.0 and ::.</summary>
    public bool IsUnspecified => Address == UInt128.Zero;

    /// <summary>Allocates the <see cref="IPAddress"/>.</summary>
    public IPAddress ToAddress() => IsIpv6 ? Ipv6Header.ToAddress(Address) : Ipv4Header.ToAddress((uint)Address);

    /// <summary>Allocates the <see cref="IPEndPoint"/>.</summary>
    public IPEndPoint ToIPEndPoint() => new(ToAddress(), Port);

    /// <inheritdoc/>
    public override string ToString() => ToIPEndPoint().ToString();
}
