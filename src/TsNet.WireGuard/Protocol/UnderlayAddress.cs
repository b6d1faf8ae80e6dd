using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.WireGuard.Protocol;

/// <summary>
/// An underlay UDP endpoint (IPv4 or IPv6 address and port) as a small value, so the hot path can compare and store
/// packet sources without allocating an <see cref="IPEndPoint"/>. IPv4-mapped IPv6 addresses are kept as IPv4.
/// A non-zero <see cref="Vni"/> names a path through a UDP relay: the address is the relay's, the VNI the relay
/// endpoint's (Geneve), and the pair is the peer's endpoint, so roaming and cookie replies work per relayed peer.
/// </summary>
internal readonly struct UnderlayAddress : IEquatable<UnderlayAddress>
{
    /// <summary>Longest cookie encoding: 16 address bytes, 2 port bytes and 3 VNI bytes (relayed sources only).</summary>
    public const int MaxEncodedLength = 21;

    private readonly ulong _high;
    private readonly ulong _low;
    private readonly uint _scopeId;

    private UnderlayAddress(ulong high, ulong low, ushort port, bool isIPv6, uint scopeId, uint vni = 0)
    {
        _high = high;
        _low = low;
        Port = port;
        IsIPv6 = isIPv6;
        _scopeId = scopeId;
        Vni = vni;
    }

    /// <summary>The 24-bit relay VNI: 0 for a direct path, else the relay endpoint this address goes through.</summary>
    public uint Vni { get; }

    /// <summary>The same address on the relay endpoint <paramref name="vni"/> (0 = the direct path).</summary>
    public UnderlayAddress WithVni(uint vni)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vni, (1u << 24) - 1);
        return new(_high, _low, Port, IsIPv6, _scopeId, vni);
    }

    public ushort Port { get; }

    /// <summary>
    /// Tailscale's "via DERP" address 127.3.3.40 (the digits above D, E, R, P); with the region ID as the port it
    /// names a DERP region as a datagram source or destination.
    /// </summary>
    private const uint DerpMagicIPv4 = 0x7F030328;

    /// <summary>High 64 bits of the virtual per-peer path addresses: 100::/64, the IPv6 discard-only prefix (RFC 6666), never a real underlay address.</summary>
    private const ulong PeerPathHigh = 0x0100_0000_0000_0000;

    /// <summary>The "via DERP region <paramref name="regionId"/>" address (127.3.3.40:region).</summary>
    public static UnderlayAddress Derp(int regionId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(regionId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(regionId, ushort.MaxValue);
        return new(0, DerpMagicIPv4, (ushort)regionId, false, 0);
    }

    /// <summary>True for a <see cref="Derp(int)"/> address; <see cref="Port"/> is then the region ID.</summary>
    public bool IsDerp => !IsIPv6 && _low == DerpMagicIPv4 && _high == 0 && Vni == 0 && Port != 0;

    /// <summary>
    /// The virtual path address of a control-mode peer: WireGuard sends to it, the path layer resolves it per datagram
    /// to the peer's direct UDP address or its DERP region, and datagrams from the peer's known paths arrive from it.
    /// </summary>
    public static UnderlayAddress PeerPath(uint peerId)
    {
        ArgumentOutOfRangeException.ThrowIfZero(peerId);
        return new(PeerPathHigh, peerId, 1, true, 0);
    }

    /// <summary>True for a <see cref="PeerPath(uint)"/> address.</summary>
    public bool IsPeerPath => IsIPv6 && _high == PeerPathHigh && Port == 1 && Vni == 0 && _low is > 0 and <= uint.MaxValue;

    /// <summary>The peer ID of a <see cref="PeerPath(uint)"/> address (0 for any other address).</summary>
    public uint PeerPathId => IsPeerPath ? (uint)_low : 0;

    public bool IsIPv6 { get; }

    /// <summary>False for <c>default</c>.</summary>
    public bool IsSet => Port != 0 || _high != 0 || _low != 0;

    public static UnderlayAddress FromIPv4(ReadOnlySpan<byte> address, ushort port) =>
        new(0, BinaryPrimitives.ReadUInt32BigEndian(address), port, false, 0);

    public static UnderlayAddress FromIPv6(ReadOnlySpan<byte> address, ushort port, uint scopeId = 0)
    {
        // ::ffff:a.b.c.d is the dual-stack spelling of an IPv4 source: keep one identity per peer address.
        if (address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xFF && address[11] == 0xFF)
        {
            return FromIPv4(address[12..16], port);
        }

        return new(BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]), port, true, scopeId);
    }

    public static UnderlayAddress FromIPEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Span<byte> bytes = stackalloc byte[16];
        endPoint.Address.TryWriteBytes(bytes, out var written);
        return written == 4
            ? FromIPv4(bytes[..4], (ushort)endPoint.Port)
            : FromIPv6(bytes, (ushort)endPoint.Port, (uint)endPoint.Address.ScopeId);
    }

    /// <summary>Reads a socket address filled by <c>ReceiveFromAsync</c> without allocating.</summary>
    public static bool TryFromSocketAddress(SocketAddress socketAddress, out UnderlayAddress address)
    {
        ArgumentNullException.ThrowIfNull(socketAddress);
        return TryFromSockaddr(socketAddress.Family, socketAddress.Buffer.Span[..socketAddress.Size], out address);
    }

    /// <summary>
    /// Reads a native <c>sockaddr_in</c> / <c>sockaddr_in6</c> of <paramref name="family"/> (the family bytes themselves
    /// are the caller's to interpret: their value differs per platform); false for another family or a short buffer.
    /// </summary>
    public static bool TryFromSockaddr(AddressFamily family, ReadOnlySpan<byte> sockaddr, out UnderlayAddress address)
    {
        address = default;
        switch (family)
        {
            case AddressFamily.InterNetwork when sockaddr.Length >= 8:
                // sockaddr_in: family(2) port(2, big-endian) addr(4) zero(8)
                address = FromIPv4(sockaddr.Slice(4, 4), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
                return true;
            case AddressFamily.InterNetworkV6 when sockaddr.Length >= 28:
                // sockaddr_in6: family(2) port(2) flowinfo(4) addr(16) scope_id(4, host order)
                address = FromIPv6(sockaddr.Slice(8, 16), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]), BinaryPrimitives.ReadUInt32LittleEndian(sockaddr[24..]));
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Writes the address into a socket address of the matching family (for <c>SendToAsync</c>). The family bytes are
    /// left as the <see cref="SocketAddress"/> constructor wrote them: they hold the platform's value (AF_INET6 is 10 on
    /// Linux, not <see cref="AddressFamily.InterNetworkV6"/> = 23), and a wrong one makes every send fail with EINVAL.
    /// </summary>
    /// <exception cref="ArgumentException">The socket address is of the other family.</exception>
    public void WriteTo(SocketAddress socketAddress)
    {
        ArgumentNullException.ThrowIfNull(socketAddress);
        var expected = IsIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        if (socketAddress.Family != expected)
        {
            throw new ArgumentException($"a {socketAddress.Family} socket address cannot hold {this}", nameof(socketAddress));
        }

        var buffer = socketAddress.Buffer.Span;
        if (IsIPv6)
        {
            // sockaddr_in6 after the family: port(2) flowinfo(4) addr(16) scope(4).
            socketAddress.Size = 28;
            buffer[2..28].Clear();
            BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], Port);
            BinaryPrimitives.WriteUInt64BigEndian(buffer[8..], _high);
            BinaryPrimitives.WriteUInt64BigEndian(buffer[16..], _low);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..], _scopeId);
        }
        else
        {
            // sockaddr_in after the family: port(2) addr(4) zero(8).
            socketAddress.Size = 16;
            buffer[2..16].Clear();
            BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], Port);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], (uint)_low);
        }
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        var length = WriteAddress(bytes);
        return IsIPv6 ? new IPAddress(bytes[..length], _scopeId) : new IPAddress(bytes[..length]);
    }

    public IPEndPoint ToIPEndPoint() => new(ToIPAddress(), Port);

    /// <summary>Writes the 4 or 16 address bytes; returns the length.</summary>
    public int WriteAddress(Span<byte> destination)
    {
        if (IsIPv6)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
            return 16;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)_low);
        return 4;
    }

    /// <summary>
    /// Address bytes then the port little-endian (wireguard-go's cookie input), then for a relayed source the VNI
    /// (3 bytes, big-endian) so peers behind one relay get distinct cookies; returns the length.
    /// </summary>
    public int EncodeForCookie(Span<byte> destination)
    {
        var length = WriteAddress(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[length..], Port);
        length += 2;
        if (Vni != 0)
        {
            destination[length] = (byte)(Vni >> 16);
            destination[length + 1] = (byte)(Vni >> 8);
            destination[length + 2] = (byte)Vni;
            length += 3;
        }

        return length;
    }

    /// <summary>
    /// A key for per-source-address tables (port ignored). The VNI counts: behind one relay address, each relay
    /// endpoint is a different remote client.
    /// </summary>
    public (ulong High, ulong Low, bool IsIPv6, uint Vni) AddressKey => (_high, _low, IsIPv6, Vni);

    public bool Equals(UnderlayAddress other) =>
        _high == other._high && _low == other._low && Port == other.Port && IsIPv6 == other.IsIPv6 && _scopeId == other._scopeId
        && Vni == other.Vni;

    public override bool Equals(object? obj) => obj is UnderlayAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low, Port, IsIPv6, Vni);

    public static bool operator ==(UnderlayAddress left, UnderlayAddress right) => left.Equals(right);

    public static bool operator !=(UnderlayAddress left, UnderlayAddress right) => !left.Equals(right);

    public override string ToString() => !IsSet ? "(none)" : Vni == 0 ? ToIPEndPoint().ToString() : $"{ToIPEndPoint()} vni {Vni}";
}
