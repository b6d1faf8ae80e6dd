using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.WireGuard.Relay;

/// <summary>Disco's 18-byte address encoding: IP as 16 bytes (IPv4 v4-mapped) then the port big-endian.</summary>
internal static class DiscoAddrPort
{
    public const int Length = 18;

    public static void Write(IPEndPoint endPoint, Span<byte> destination)
    {
        var address = endPoint.Address.AddressFamily == AddressFamily.InterNetwork ? endPoint.Address.MapToIPv6() : endPoint.Address;
        if (!address.TryWriteBytes(destination[..16], out var written) || written != 16)
        {
            throw new ArgumentException("Not an IP address.", nameof(endPoint));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], (ushort)endPoint.Port);
    }

    /// <summary>Reads 18 bytes; a v4-mapped address comes back as IPv4.</summary>
    public static IPEndPoint Read(ReadOnlySpan<byte> source)
    {
        var address = new IPAddress(source[..16]);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return new IPEndPoint(address, BinaryPrimitives.ReadUInt16BigEndian(source[16..]));
    }
}
