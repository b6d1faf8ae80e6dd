using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// An IPv4 or IPv6 address as a 128-bit value (IPv4 in the IPv4-mapped form <c>::ffff:a.b.c.d</c>): cheap to copy,
/// compare and hash, so a 4-tuple can key a dictionary without allocating.
/// </summary>
internal readonly record struct TcpAddress(UInt128 Value)
{
    private static readonly UInt128 MappedPrefix = new(0, 0x0000_FFFF_0000_0000UL);
    private static readonly UInt128 MappedMask = new(ulong.MaxValue, 0xFFFF_FFFF_0000_0000UL);

    /// <summary>True for an IPv4 address.</summary>
    public bool IsIpv4 => (Value & MappedMask) == MappedPrefix;

    /// <summary>Bytes on the wire: 4 or 16.</summary>
    public int Length => IsIpv4 ? 4 : 16;

    /// <summary>From 4 (IPv4) or 16 (IPv6) network-order bytes.</summary>
    public static TcpAddress FromBytes(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        4 => new TcpAddress(MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes)),
        16 => new TcpAddress(BinaryPrimitives.ReadUInt128BigEndian(bytes)),
        _ => throw new ArgumentException("An address has 4 or 16 bytes.", nameof(bytes)),
    };

    /// <summary>From an <see cref="IPAddress"/> (IPv4 or IPv6).</summary>
    public static TcpAddress FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written) || (address.AddressFamily != AddressFamily.InterNetwork && written != 16))
        {
            throw new ArgumentException("Unsupported address.", nameof(address));
        }

        return FromBytes(bytes[..written]);
    }

    /// <summary>Writes the 4 or 16 network-order bytes; returns the count.</summary>
    public int WriteTo(Span<byte> destination)
    {
        if (IsIpv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Value);
            return 4;
        }

        BinaryPrimitives.WriteUInt128BigEndian(destination, Value);
        return 16;
    }

    /// <summary>As an <see cref="IPAddress"/> (allocates; for logs and the API edge).</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        return new IPAddress(bytes[..WriteTo(bytes)]);
    }

    /// <inheritdoc/>
    public override string ToString() => ToIPAddress().ToString();
}

/// <summary>The 4-tuple of a connection from our side: local address and port, remote address and port.</summary>
internal readonly record struct TcpEndpoints(TcpAddress LocalAddress, ushort LocalPort, TcpAddress RemoteAddress, ushort RemotePort)
{
    /// <summary>The same connection seen from the other end.</summary>
    public TcpEndpoints Reversed() => new(RemoteAddress, RemotePort, LocalAddress, LocalPort);

    /// <summary>True when both addresses are IPv6 (mixed families are not a valid connection).</summary>
    public bool IsIpv6 => !LocalAddress.IsIpv4;

    /// <summary>Partial checksum of the pseudo-header for a segment we send (local → remote) of <paramref name="tcpLength"/> bytes.</summary>
    public ulong OutboundPseudoHeaderSum(int tcpLength) => PseudoHeaderSum(LocalAddress, RemoteAddress, tcpLength);

    /// <summary>Partial checksum of the pseudo-header for a segment we receive (remote → local).</summary>
    public ulong InboundPseudoHeaderSum(int tcpLength) => PseudoHeaderSum(RemoteAddress, LocalAddress, tcpLength);

    /// <summary>Fills the checksum field of a segment we built (header and payload in <paramref name="segment"/>).</summary>
    public void FillChecksum(Span<byte> segment) => TcpSegment.FillChecksum(segment, OutboundPseudoHeaderSum(segment.Length));

    /// <summary>Checks the checksum of a segment the remote sent us.</summary>
    public bool IsInboundChecksumValid(ReadOnlySpan<byte> segment) =>
        InternetChecksum.IsValid(segment, InboundPseudoHeaderSum(segment.Length));

    /// <inheritdoc/>
    public override string ToString() => $"{LocalAddress}:{LocalPort} <-> {RemoteAddress}:{RemotePort}";

    private static ulong PseudoHeaderSum(TcpAddress source, TcpAddress destination, int length)
    {
        Span<byte> src = stackalloc byte[16];
        Span<byte> dst = stackalloc byte[16];
        int srcLength = source.WriteTo(src);
        int dstLength = destination.WriteTo(dst);
        return srcLength == 4
            ? InternetChecksum.PseudoHeaderIpv4(src[..srcLength], dst[..dstLength], IpProtocol.Tcp, length)
            : InternetChecksum.PseudoHeaderIpv6(src[..srcLength], dst[..dstLength], IpProtocol.Tcp, length);
    }
}
