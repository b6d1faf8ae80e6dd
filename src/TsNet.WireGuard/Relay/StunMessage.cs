using System.Buffers.Binary;

namespace TsNet.WireGuard.Relay;

/// <summary>Recognises STUN binding messages (RFC 5389 header) so the relay can tell them from Geneve.</summary>
internal static class StunMessage
{
    private const int HeaderLength = 20;

    /// <summary>RFC 5389 magic cookie, bytes 4–7 of every STUN message.</summary>
    public const uint MagicCookie = 0x2112A442;

    /// <summary>STUN's <c>Is()</c>: at least a 20-byte header, top two bits zero, and the magic cookie.</summary>
    public static bool IsStun(ReadOnlySpan<byte> packet) =>
        packet.Length >= HeaderLength
        && (packet[0] & 0xC0) == 0
        && BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) == MagicCookie;

    /// <summary>A 20-byte STUN header with the magic cookie, top bits zero, and method "binding" (byte 1 == 0x01).</summary>
    public static bool IsBindingMessage(ReadOnlySpan<byte> packet) =>
        packet.Length >= HeaderLength
        && (packet[0] & 0xC0) == 0
        && packet[1] == 0x01
        && BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) == MagicCookie;
}
