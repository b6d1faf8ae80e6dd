using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.WireGuard.Routing;

/// <summary>
/// WireGuard's cryptokey routing table (wireguard-go <c>AllowedIPs</c>): maps IPv4 and IPv6 prefixes to a value
/// (the peer) by longest-prefix match. The send path looks up an inner packet's destination to pick the peer; the
/// receive path looks up the decrypted packet's source and drops it unless the result is the peer it came from.
/// </summary>
/// <remarks>
/// <para>IPv4 and IPv6 are separate tables, chosen by address length: an IPv4-mapped IPv6 address
/// (<c>::ffff:a.b.c.d</c>) is an IPv6 address here, as it is on the wire.</para>
/// <para>Lookups allocate nothing. The table is not thread-safe: it belongs to the dataplane loop, and concurrent
/// lookups are safe only while nothing mutates it.</para>
/// </remarks>
/// <typeparam name="T">The value, usually the peer; compared by reference in <see cref="RemoveAll"/>.</typeparam>
internal sealed class AllowedIpsTable<T>
    where T : class
{
    private const int Ipv4Bits = 32;
    private const int Ipv6Bits = 128;
    private const int Ipv4Bytes = 4;
    private const int Ipv6Bytes = 16;

    private readonly PrefixTable<uint, T> _ipv4 = new(Ipv4Bits);
    private readonly PrefixTable<UInt128, T> _ipv6 = new(Ipv6Bits);

    /// <summary>Number of prefixes in the table (both families).</summary>
    public int Count => _ipv4.Count + _ipv6.Count;

    /// <summary>
    /// Maps <paramref name="address"/>/<paramref name="prefixLength"/> to <paramref name="value"/>, replacing the value
    /// of an identical prefix. Host bits beyond the prefix length are ignored (10.1.2.3/8 is stored as 10.0.0.0/8).
    /// </summary>
    public void Insert(IPAddress address, int prefixLength, T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (IsIpv4(address, prefixLength, out uint v4))
        {
            _ipv4.Insert(v4, prefixLength, value);
        }
        else
        {
            _ipv6.Insert(ToIpv6(address), prefixLength, value);
        }
    }

    /// <summary>Removes exactly this prefix (host bits ignored); false when it was not present.</summary>
    public bool Remove(IPAddress address, int prefixLength) =>
        IsIpv4(address, prefixLength, out uint v4) ? _ipv4.Remove(v4, prefixLength) : _ipv6.Remove(ToIpv6(address), prefixLength);

    /// <summary>Removes every prefix mapped to <paramref name="value"/> (a peer being removed).</summary>
    public void RemoveAll(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _ipv4.RemoveAll(value);
        _ipv6.RemoveAll(value);
    }

    /// <summary>
    /// Longest-prefix match for a raw address: 4 bytes are IPv4, 16 bytes IPv6 (for instance an inner packet's
    /// source or destination field). Any other length finds nothing.
    /// </summary>
    public T? Lookup(ReadOnlySpan<byte> address) => address.Length switch
    {
        Ipv4Bytes => _ipv4.Lookup(BinaryPrimitives.ReadUInt32BigEndian(address)),
        Ipv6Bytes => _ipv6.Lookup(BinaryPrimitives.ReadUInt128BigEndian(address)),
        _ => null,
    };

    /// <summary>Longest-prefix match for an <see cref="IPAddress"/> (allocation-free).</summary>
    public T? Lookup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[Ipv6Bytes];
        return address.TryWriteBytes(bytes, out int written) ? Lookup(bytes[..written]) : null;
    }

    /// <summary>Every prefix mapped to <paramref name="value"/>, IPv4 first, longest first within a family (a snapshot).</summary>
    public IEnumerable<(IPAddress Address, int PrefixLength)> PrefixesOf(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var v4 = new List<(uint Address, int PrefixLength)>();
        var v6 = new List<(UInt128 Address, int PrefixLength)>();
        _ipv4.CollectPrefixesOf(value, v4);
        _ipv6.CollectPrefixesOf(value, v6);

        var result = new List<(IPAddress, int)>(v4.Count + v6.Count);
        Span<byte> bytes = stackalloc byte[Ipv6Bytes];
        foreach (var (prefix, length) in v4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, prefix);
            result.Add((new IPAddress(bytes[..Ipv4Bytes]), length));
        }

        foreach (var (prefix, length) in v6)
        {
            BinaryPrimitives.WriteUInt128BigEndian(bytes, prefix);
            result.Add((new IPAddress(bytes), length));
        }

        return result;
    }

    /// <summary>Validates the prefix and says which family it is; the IPv4 value is returned when it is IPv4.</summary>
    private static bool IsIpv4(IPAddress address, int prefixLength, out uint value)
    {
        ArgumentNullException.ThrowIfNull(address);
        value = 0;
        switch (address.AddressFamily)
        {
            case AddressFamily.InterNetwork:
                ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
                ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, Ipv4Bits);
                Span<byte> bytes = stackalloc byte[Ipv4Bytes];
                address.TryWriteBytes(bytes, out _);
                value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
                return true;
            case AddressFamily.InterNetworkV6:
                ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
                ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, Ipv6Bits);
                return false;
            default:
                throw new ArgumentException("Only IPv4 and IPv6 addresses can be routed.", nameof(address));
        }
    }

    private static UInt128 ToIpv6(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[Ipv6Bytes];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}
