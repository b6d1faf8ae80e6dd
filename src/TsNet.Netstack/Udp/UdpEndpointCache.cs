using System.Buffers.Binary;
using System.Net;

namespace TsNet.Netstack;

/// <summary>
/// Remembers the <see cref="IPEndPoint"/>s handed to the application for recent remotes, so a socket that talks to a
/// few peers does not allocate one per received datagram. A small direct-mapped table of immutable entries: lookups
/// and updates are single reference reads and writes, safe from concurrent receives without a lock. A cached
/// endpoint the application has since changed (its address, scope or port) is noticed and replaced.
/// </summary>
internal sealed class UdpEndpointCache
{
    /// <summary>Slots in the table: a socket rarely talks to more peers at once, and a miss only costs an allocation.</summary>
    private const int SlotCount = 16;

    private const int Ipv6AddressBytes = 16;

    private readonly Entry?[] _slots = new Entry?[SlotCount];

    /// <summary>The endpoint for <paramref name="remote"/>: a cached instance when it still says the same, else a new one.</summary>
    public IPEndPoint Get(EndpointValue remote)
    {
        int slot = (remote.GetHashCode() & int.MaxValue) % SlotCount;
        var entry = Volatile.Read(ref _slots[slot]);
        if (entry is not null && entry.Key == remote && StillSays(entry.EndPoint, remote))
        {
            return entry.EndPoint;
        }

        var endpoint = remote.ToIPEndPoint();
        Volatile.Write(ref _slots[slot], new Entry(remote, endpoint));
        return endpoint;
    }

    private static bool StillSays(IPEndPoint endpoint, EndpointValue remote)
    {
        if (endpoint.Port != remote.Port)
        {
            return false;
        }

        var address = endpoint.Address;
        Span<byte> bytes = stackalloc byte[Ipv6AddressBytes];
        if (!address.TryWriteBytes(bytes, out int written))
        {
            return false;
        }

        return remote.IsIpv6
            ? written == Ipv6AddressBytes && address.ScopeId == 0 && BinaryPrimitives.ReadUInt128BigEndian(bytes) == remote.Address
            : written == sizeof(uint) && BinaryPrimitives.ReadUInt32BigEndian(bytes) == (uint)remote.Address;
    }

    private sealed record Entry(EndpointValue Key, IPEndPoint EndPoint);
}
