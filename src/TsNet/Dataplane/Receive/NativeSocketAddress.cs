using System.Buffers.Binary;
using System.Net.Sockets;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane.Receive;

/// <summary>Reads a Linux <c>sockaddr_in</c> / <c>sockaddr_in6</c> as <c>recvmsg</c> writes it into <c>msg_name</c>.</summary>
internal static class NativeSocketAddress
{
    /// <summary>Linux <c>AF_INET</c>.</summary>
    public const ushort AfInet = 2;

    /// <summary>Linux <c>AF_INET6</c>.</summary>
    public const ushort AfInet6 = 10;

    /// <summary>Room for any address the underlay's sockets receive from (<c>sizeof(struct sockaddr_storage)</c>).</summary>
    public const int StorageSize = 128;

    /// <summary>Reads the source address; false for a family or length the underlay does not speak.</summary>
    public static bool TryRead(ReadOnlySpan<byte> sockaddr, out UnderlayAddress address)
    {
        address = default;
        if (sockaddr.Length < 2)
        {
            return false;
        }

        // Linux's family values, mapped to .NET's; the layout after them is UnderlayAddress's to read.
        var family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr) switch
        {
            AfInet => AddressFamily.InterNetwork,
            AfInet6 => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        return UnderlayAddress.TryFromSockaddr(family, sockaddr, out address);
    }
}
