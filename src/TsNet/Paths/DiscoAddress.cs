using System.Buffers.Binary;
using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// Disco's 18-byte address encoding (IP as 16 bytes, IPv4 v4-mapped, then the port big-endian) read and written as
/// <see cref="UnderlayAddress"/> without allocating, and the address classes path scoring needs.
/// </summary>
internal static class DiscoAddress
{
    /// <summary>Encoded length.</summary>
    public const int Length = 18;

    /// <summary>Writes <paramref name="address"/> as 18 bytes.</summary>
    public static void Write(in UnderlayAddress address, Span<byte> destination)
    {
        var ip = destination[..16];
        if (address.IsIPv6)
        {
            address.WriteAddress(ip);
        }
        else
        {
            ip[..10].Clear();
            ip[10] = 0xFF;
            ip[11] = 0xFF;
            address.WriteAddress(ip[12..]);
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], address.Port);
    }

    /// <summary>Reads 18 bytes (v4-mapped becomes IPv4).</summary>
    public static UnderlayAddress Read(ReadOnlySpan<byte> source) =>
        UnderlayAddress.FromIPv6(source[..16], BinaryPrimitives.ReadUInt16BigEndian(source[16..]));

    /// <summary>127.0.0.0/8 or ::1.</summary>
    public static bool IsLoopback(in UnderlayAddress address)
    {
        Span<byte> ip = stackalloc byte[16];
        int length = address.WriteAddress(ip);
        return length == 4 ? ip[0] == 127 : ip[..15].IndexOfAnyExcept((byte)0) < 0 && ip[15] == 1;
    }

    /// <summary>169.254.0.0/16 or fe80::/10.</summary>
    public static bool IsLinkLocal(in UnderlayAddress address)
    {
        Span<byte> ip = stackalloc byte[16];
        int length = address.WriteAddress(ip);
        return length == 4 ? ip[0] == 169 && ip[1] == 254 : ip[0] == 0xFE && (ip[1] & 0xC0) == 0x80;
    }

    /// <summary>RFC 1918 (10/8, 172.16/12, 192.168/16) or ULA (fc00::/7).</summary>
    public static bool IsPrivate(in UnderlayAddress address)
    {
        Span<byte> ip = stackalloc byte[16];
        int length = address.WriteAddress(ip);
        return length == 4
            ? ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xF0) == 16) || (ip[0] == 192 && ip[1] == 168)
            : (ip[0] & 0xFE) == 0xFC;
    }

    /// <summary>The unspecified address (0.0.0.0 or ::), never a usable peer endpoint.</summary>
    public static bool IsUnspecified(in UnderlayAddress address)
    {
        Span<byte> ip = stackalloc byte[16];
        int length = address.WriteAddress(ip);
        return ip[..length].IndexOfAnyExcept((byte)0) < 0;
    }
}
