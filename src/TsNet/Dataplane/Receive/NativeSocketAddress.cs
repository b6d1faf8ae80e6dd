using System.Buffers.Binary;
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

        var port = sockaddr.Length >= 4 ? BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]) : (ushort)0;
        switch (BinaryPrimitives.ReadUInt16LittleEndian(sockaddr))
        {
            case AfInet when sockaddr.Length >= 8:
                // sockaddr_in: family(2) port(2, big-endian) addr(4) zero(8)
                address = UnderlayAddress.FromIPv4(sockaddr.Slice(4, 4), port);
                return true;
            case AfInet6 when sockaddr.Length >= 28:
                // sockaddr_in6: family(2) port(2) flowinfo(4) addr(16) scope_id(4, host order)
                address = UnderlayAddress.FromIPv6(sockaddr.Slice(8, 16), port, BinaryPrimitives.ReadUInt32LittleEndian(sockaddr[24..]));
                return true;
            default:
                return false;
        }
    }
}
