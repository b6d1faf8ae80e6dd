using System.Buffers.Binary;

namespace TsNet.Packets;

/// <summary>
/// A checked read-only view of a UDP datagram (RFC 768). <see cref="TryCreate"/> guarantees
/// <c>8 ≤ Length field ≤ buffer length</c>; the view covers exactly Length bytes.
/// </summary>
internal readonly ref struct UdpDatagram
{
    /// <summary>Length of the UDP header.</summary>
    public const int HeaderLength = 8;

    internal const int SourcePortOffset = 0;
    internal const int DestinationPortOffset = 2;
    internal const int LengthOffset = 4;
    internal const int ChecksumOffset = 6;

    private readonly ReadOnlySpan<byte> _datagram;

    private UdpDatagram(ReadOnlySpan<byte> datagram) => _datagram = datagram;

    /// <summary>Validates the header of <paramref name="buffer"/> and returns a view of the datagram in it.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out UdpDatagram datagram)
    {
        datagram = default;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(buffer[LengthOffset..]);
        if (length < HeaderLength || length > buffer.Length)
        {
            return false;
        }

        datagram = new UdpDatagram(buffer[..length]);
        return true;
    }

    /// <summary>The whole datagram (Length bytes).</summary>
    public ReadOnlySpan<byte> Bytes => _datagram;

    /// <summary>Source port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_datagram[SourcePortOffset..]);

    /// <summary>Destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_datagram[DestinationPortOffset..]);

    /// <summary>Length field: header plus payload.</summary>
    public int Length => _datagram.Length;

    /// <summary>Checksum field (0 over IPv4 means "not computed").</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_datagram[ChecksumOffset..]);

    /// <summary>The payload.</summary>
    public ReadOnlySpan<byte> Payload => _datagram[HeaderLength..];

    /// <summary>Checks the checksum over IPv4; a zero checksum means the sender did not compute one (RFC 768).</summary>
    public bool IsChecksumValidIpv4(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination) =>
        Checksum == 0
        || InternetChecksum.IsValid(_datagram, InternetChecksum.PseudoHeaderIpv4(source, destination, IpProtocol.Udp, _datagram.Length));

    /// <summary>Checks the checksum over IPv6, where it is mandatory (RFC 8200 §8.1): zero is invalid.</summary>
    public bool IsChecksumValidIpv6(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination) =>
        Checksum != 0
        && InternetChecksum.IsValid(_datagram, InternetChecksum.PseudoHeaderIpv6(source, destination, IpProtocol.Udp, _datagram.Length));

    /// <summary>Writes a header for a datagram of <paramref name="payloadLength"/> bytes (checksum left zero).</summary>
    public static void WriteHeader(Span<byte> datagram, ushort sourcePort, ushort destinationPort, int payloadLength)
    {
        if ((uint)payloadLength > ushort.MaxValue - HeaderLength)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength));
        }

        BinaryPrimitives.WriteUInt16BigEndian(datagram[SourcePortOffset..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[DestinationPortOffset..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[LengthOffset..], (ushort)(HeaderLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(datagram[ChecksumOffset..], 0);
    }

    /// <summary>Fills the checksum of a datagram we built, given the pseudo-header partial sum.</summary>
    /// <remarks>A computed zero is sent as 0xFFFF, since zero means "no checksum" (RFC 768).</remarks>
    public static void FillChecksum(Span<byte> datagram, ulong pseudoHeaderSum)
    {
        BinaryPrimitives.WriteUInt16BigEndian(datagram[ChecksumOffset..], 0);
        ushort checksum = InternetChecksum.Compute(datagram, pseudoHeaderSum);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[ChecksumOffset..], checksum == 0 ? (ushort)0xFFFF : checksum);
    }
}
