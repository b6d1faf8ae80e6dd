using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Packets;

/// <summary>
/// The validated meaning of an IPv4 header (smoltcp's <c>Ipv4Repr</c>): what TsNet reads from and writes to the
/// wire. Options, DSCP/ECN and the identification are not represented — TsNet never sends options and sends only
/// atomic datagrams (DF set, ID 0, as RFC 6864 allows).
/// </summary>
/// <param name="Source">Source address as a big-endian number.</param>
/// <param name="Destination">Destination address as a big-endian number.</param>
/// <param name="Protocol">Payload protocol (<see cref="IpProtocol"/>).</param>
/// <param name="TimeToLive">Time to live.</param>
/// <param name="PayloadLength">Payload length in bytes.</param>
internal readonly record struct Ipv4Header(uint Source, uint Destination, byte Protocol, byte TimeToLive, int PayloadLength)
{
    /// <summary>TTL TsNet uses for packets it originates (the Linux default).</summary>
    public const byte DefaultTimeToLive = 64;

    /// <summary>Length of the header <see cref="Emit"/> writes.</summary>
    public const int Length = Ipv4Packet.MinHeaderLength;

    /// <summary>Largest payload that fits the 16-bit total length behind a 20-byte header.</summary>
    public const int MaxPayloadLength = Ipv4Packet.MaxTotalLength - Length;

    /// <summary>
    /// Reads the meaning of a checked view. Fails for a bad header checksum and for fragments, which TsNet does not
    /// reassemble.
    /// </summary>
    public static bool TryParse(Ipv4Packet packet, out Ipv4Header header)
    {
        if (!packet.IsChecksumValid() || packet.IsFragment)
        {
            header = default;
            return false;
        }

        header = new Ipv4Header(packet.SourceValue, packet.DestinationValue, packet.Protocol, packet.TimeToLive, packet.Payload.Length);
        return true;
    }

    /// <summary>Writes a 20-byte header with its checksum to the start of <paramref name="destination"/>.</summary>
    public void Emit(Span<byte> destination)
    {
        if ((uint)PayloadLength > MaxPayloadLength)
        {
            throw new InvalidOperationException("Payload too long for IPv4.");
        }

        Span<byte> header = destination[..Length];
        header[Ipv4Packet.VersionAndIhlOffset] = (Ipv4Packet.Version << 4) | (Length / 4);
        header[Ipv4Packet.DscpAndEcnOffset] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4Packet.TotalLengthOffset..], (ushort)(Length + PayloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4Packet.IdentificationOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4Packet.FlagsAndFragmentOffsetOffset..], Ipv4Packet.DontFragmentFlag);
        header[Ipv4Packet.TimeToLiveOffset] = TimeToLive;
        header[Ipv4Packet.ProtocolOffset] = Protocol;
        BinaryPrimitives.WriteUInt32BigEndian(header[Ipv4Packet.SourceOffset..], Source);
        BinaryPrimitives.WriteUInt32BigEndian(header[Ipv4Packet.DestinationOffset..], Destination);
        BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4Packet.ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4Packet.ChecksumOffset..], InternetChecksum.Compute(header));
    }

    /// <summary>Converts an IPv4 address to its big-endian number without allocating.</summary>
    public static uint ToValue(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException("Not an IPv4 address.", nameof(address));
        }

        Span<byte> bytes = stackalloc byte[Ipv4Packet.AddressLength];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    /// <summary>Converts a big-endian number to an <see cref="IPAddress"/> (allocates).</summary>
    public static IPAddress ToAddress(uint value)
    {
        Span<byte> bytes = stackalloc byte[Ipv4Packet.AddressLength];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
