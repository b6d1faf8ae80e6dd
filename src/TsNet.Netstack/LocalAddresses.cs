using System.Net;
using System.Net.Sockets;
using TsNet.Packets;

namespace TsNet.Netstack;

/// <summary>
/// The node's own addresses as big-endian numbers, so "is this packet for us" costs a few integer compares and no
/// allocation. IPv4-mapped IPv6 addresses in the configuration are taken as the IPv4 address they map.
/// </summary>
internal sealed class LocalAddresses
{
    private readonly uint[] _ipv4;
    private readonly UInt128[] _ipv6;

    public LocalAddresses(IReadOnlyList<IPAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var ipv4 = new List<uint>();
        var ipv6 = new List<UInt128>();
        foreach (var configured in addresses)
        {
            ArgumentNullException.ThrowIfNull(configured, nameof(addresses));
            var address = configured.IsIPv4MappedToIPv6 ? configured.MapToIPv4() : configured;
            switch (address.AddressFamily)
            {
                case AddressFamily.InterNetwork:
                    ipv4.Add(Ipv4Header.ToValue(address));
                    break;
                case AddressFamily.InterNetworkV6:
                    ipv6.Add(Ipv6Header.ToValue(address));
                    break;
                default:
                    throw new ArgumentException($"Not an IP address: {address}.", nameof(addresses));
            }
        }

        _ipv4 = [.. ipv4];
        _ipv6 = [.. ipv6];
    }

    /// <summary>True when at least one IPv6 address is configured.</summary>
    public bool HasIpv6 => _ipv6.Length > 0;

    public bool IsLocal(uint address) => Array.IndexOf(_ipv4, address) >= 0;

    public bool IsLocal(UInt128 address) => Array.IndexOf(_ipv6, address) >= 0;

    /// <summary>The source for packets we originate over IPv4: the first configured IPv4 address.</summary>
    public bool TryGetIpv4Source(out uint source)
    {
        source = _ipv4.Length > 0 ? _ipv4[0] : 0;
        return _ipv4.Length > 0;
    }

    /// <summary>The source for packets we originate over IPv6: the first configured IPv6 address.</summary>
    public bool TryGetIpv6Source(out UInt128 source)
    {
        source = _ipv6.Length > 0 ? _ipv6[0] : UInt128.Zero;
        return _ipv6.Length > 0;
    }
}
