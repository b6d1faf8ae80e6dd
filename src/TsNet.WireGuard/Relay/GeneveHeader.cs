using System.Buffers.Binary;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// The fixed 8-byte Geneve header (RFC 8926) as Tailscale's peer relay uses it: no options, the O bit ("control")
/// marks relay handshake messages, the protocol says what follows (disco or WireGuard), the 24-bit VNI names the
/// relay endpoint.
/// </summary>
internal readonly record struct GeneveHeader(byte Version, bool Control, ushort Protocol, uint Vni)
{
    public const int Length = 8;

    /// <summary>Disco (magic-prefixed, NaCl-boxed) messages follow.</summary>
    public const ushort ProtocolDisco = 0x7A11;

    /// <summary>A WireGuard message follows.</summary>
    public const ushort ProtocolWireGuard = 0x7A12;

    /// <summary>The largest VNI (24 bits).</summary>
    public const uint MaxVni = (1u << 24) - 1;

    private const byte ControlBit = 0x80;

    /// <summary>
    /// Reads the version, O bit, protocol and VNI; like tailscale it ignores Opt Len, the C bit and reserved bits.
    /// False when shorter than 8 bytes.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> packet, out GeneveHeader header)
    {
        if (packet.Length < Length)
        {
            header = default;
            return false;
        }

        header = new GeneveHeader(
            (byte)(packet[0] >> 6),
            (packet[1] & ControlBit) != 0,
            BinaryPrimitives.ReadUInt16BigEndian(packet[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) >> 8);
        return true;
    }

    /// <summary>
    /// The stricter shape test clients use to tell Geneve from naked WireGuard or disco (magicsock's
    /// <c>packetLooksLike</c>): version 0, no options, reserved byte zero.
    /// </summary>
    public static bool LooksLikeGeneve(ReadOnlySpan<byte> packet) =>
        packet.Length >= Length && (packet[0] & 0xC0) == 0 && (packet[1] & 0x3F) == 0 && packet[7] == 0;

    /// <summary>Writes the 8 bytes; the VNI must fit 24 bits.</summary>
    public void Encode(Span<byte> destination)
    {
        if (Vni > MaxVni)
        {
            throw new InvalidOperationException($"A VNI is 24 bits; {Vni} is too large.");
        }

        destination[0] = (byte)(Version << 6);
        destination[1] = Control ? ControlBit : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], Protocol);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Vni << 8);
    }
}
