using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Services.Socks5;

/// <summary>RFC 1928 / RFC 1929 constants and the fixed-layout messages the proxy writes.</summary>
internal static class Socks5Protocol
{
    // Specification (RFC 1928 §3-§6, RFC 1929 §2).
    public const byte Version = 0x05;
    public const byte AuthVersion = 0x01;
    public const byte MethodUserPassword = 0x02;
    public const byte MethodNoneAcceptable = 0xFF;
    public const byte AuthSuccess = 0x00;
    public const byte AuthFailure = 0x01;

    public const byte CommandConnect = 0x01;
    public const byte CommandBind = 0x02;
    public const byte CommandUdpAssociate = 0x03;

    public const byte AddressIpv4 = 0x01;
    public const byte AddressDomain = 0x03;
    public const byte AddressIpv6 = 0x04;

    /// <summary>RSV(2) + FRAG(1) of the UDP request header (RFC 1928 §7), before ATYP.</summary>
    public const int UdpHeaderPrefixLength = 3;

    /// <summary>The largest header a datagram to the client carries: prefix, ATYP, 16-byte IPv6 address, port.</summary>
    public const int MaxUdpReplyHeaderLength = UdpHeaderPrefixLength + 1 + 16 + 2;

    /// <summary>A failure reply (10 bytes, <c>ATYP=01 0.0.0.0:0</c>, RFC 1928 §6).</summary>
    public static byte[] FailureReply(Socks5Reply reply) => [Version, (byte)reply, 0x00, AddressIpv4, 0, 0, 0, 0, 0, 0];

    /// <summary>A success reply naming <paramref name="bound"/> (ATYP 01 or 04).</summary>
    public static byte[] SuccessReply(IPEndPoint bound)
    {
        var reply = new byte[3 + AddressLength(bound.Address)];
        reply[0] = Version;
        reply[1] = (byte)Socks5Reply.Succeeded;
        reply[2] = 0x00;
        WriteAddress(reply.AsSpan(3), bound);
        return reply;
    }

    /// <summary>ATYP + address + port length for an IP endpoint.</summary>
    public static int AddressLength(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? 1 + 16 + 2 : 1 + 4 + 2;

    /// <summary>Writes ATYP, the address and the big-endian port; returns the bytes written.</summary>
    public static int WriteAddress(Span<byte> destination, IPEndPoint endPoint)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var ipv6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        destination[0] = ipv6 ? AddressIpv6 : AddressIpv4;
        var length = ipv6 ? 16 : 4;
        if (!address.TryWriteBytes(destination.Slice(1, length), out _))
        {
            throw new ArgumentException("The address does not fit.", nameof(endPoint));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(1 + length, 2), (ushort)endPoint.Port);
        return 1 + length + 2;
    }

    /// <summary>IPv4-mapped IPv6 (<c>::ffff:a.b.c.d</c>) means the IPv4 address (socks5.md §5.9).</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary>REP codes of RFC 1928 §6 the proxy sends.</summary>
internal enum Socks5Reply : byte
{
    Succeeded = 0x00,
    GeneralFailure = 0x01,
    HostUnreachable = 0x04,
    ConnectionRefused = 0x05,
    TtlExpired = 0x06,
    CommandNotSupported = 0x07,
    AddressTypeNotSupported = 0x08,
}
