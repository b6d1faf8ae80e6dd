using System.Buffers.Binary;
using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

// Loopback: packets the core sends to one of its own addresses (a dial of the node's own tailnet address).
internal sealed partial class NetstackCore
{
    /// <summary>IPv4 destination address: bytes 16–19 of the header.</summary>
    private const int Ipv4DestinationOffset = 16;

    /// <summary>IPv6 destination address: bytes 24–39 of the header.</summary>
    private const int Ipv6DestinationOffset = 24;

    /// <summary>
    /// True when <paramref name="packet"/>, one the core queued for the dataplane, is addressed to one of the node's
    /// own addresses: the owner hands it back to <see cref="ProcessInbound"/> instead, as a kernel's loopback would,
    /// because no peer routes the node's own address. One version check and an address compare; no allocation.
    /// </summary>
    public bool IsAddressedToSelf(PacketBuffer packet)
    {
        ReadOnlySpan<byte> bytes = packet.Span;
        if (bytes.IsEmpty)
        {
            return false;
        }

        return (bytes[0] >> 4) switch
        {
            4 => bytes.Length >= Ipv4DestinationOffset + sizeof(uint)
                && _addresses.IsLocal(BinaryPrimitives.ReadUInt32BigEndian(bytes[Ipv4DestinationOffset..])),
            6 => bytes.Length >= Ipv6DestinationOffset + 16
                && _addresses.IsLocal(BinaryPrimitives.ReadUInt128BigEndian(bytes[Ipv6DestinationOffset..])),
            _ => false,
        };
    }
}
