using TsNet.WireGuard.Crypto;

namespace TsNet.Derp;

/// <summary>
/// Writes the frames a DERP client sends into caller buffers (sans-IO). Each method returns the frame length;
/// the destination must hold it (the <c>...FrameSize</c> constants), else it throws.
/// </summary>
internal static class DerpFrameWriter
{
    /// <summary>ClientInfo frame length: header + key + nonce + box(tag + JSON).</summary>
    public static int ClientInfoFrameSize =>
        DerpProtocol.FrameHeaderSize + DerpProtocol.KeySize + DerpProtocol.NonceSize + NaClBox.Overhead + DerpProtocol.ClientInfoJson.Length;

    /// <summary>NotePreferred frame length.</summary>
    public const int NotePreferredFrameSize = DerpProtocol.FrameHeaderSize + 1;

    /// <summary>Ping/Pong frame length.</summary>
    public const int PingFrameSize = DerpProtocol.FrameHeaderSize + DerpProtocol.PingDataSize;

    /// <summary>
    /// ClientInfo: <c>client_pub(32) | nonce(24) | box(client_priv → server_pub, {"version":2,"CanAckPings":true})</c>;
    /// <paramref name="sharedKey"/> is the precomputed box key (<see cref="NaClBox.TryPrecompute"/>), the nonce random.
    /// </summary>
    public static int WriteClientInfo(Span<byte> destination, ReadOnlySpan<byte> clientPublicKey, ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> nonce)
    {
        CheckLength(clientPublicKey, DerpProtocol.KeySize, nameof(clientPublicKey));
        CheckLength(nonce, DerpProtocol.NonceSize, nameof(nonce));
        var size = ClientInfoFrameSize;
        var frame = destination[..size];
        DerpFrameHeader.Write(frame, DerpFrameType.ClientInfo, size - DerpProtocol.FrameHeaderSize);
        var body = frame[DerpProtocol.FrameHeaderSize..];
        clientPublicKey.CopyTo(body);
        nonce.CopyTo(body[DerpProtocol.KeySize..]);
        NaClBox.Seal(sharedKey, nonce, DerpProtocol.ClientInfoJson, body[(DerpProtocol.KeySize + DerpProtocol.NonceSize)..]);
        return size;
    }

    /// <summary>SendPacket: <c>dst_pub(32) | packet</c>; the packet is at most <see cref="DerpProtocol.MaxPacketSize"/> bytes.</summary>
    public static int WriteSendPacket(Span<byte> destination, ReadOnlySpan<byte> destinationKey, ReadOnlySpan<byte> packet)
    {
        CheckLength(destinationKey, DerpProtocol.KeySize, nameof(destinationKey));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(packet.Length, DerpProtocol.MaxPacketSize, nameof(packet));
        var size = DerpProtocol.SendPacketOverhead + packet.Length;
        var frame = destination[..size];
        DerpFrameHeader.Write(frame, DerpFrameType.SendPacket, DerpProtocol.KeySize + packet.Length);
        destinationKey.CopyTo(frame[DerpProtocol.FrameHeaderSize..]);
        packet.CopyTo(frame[DerpProtocol.SendPacketOverhead..]);
        return size;
    }

    /// <summary>NotePreferred: one byte, 1 = this region is my home.</summary>
    public static int WriteNotePreferred(Span<byte> destination, bool preferred)
    {
        var frame = destination[..NotePreferredFrameSize];
        DerpFrameHeader.Write(frame, DerpFrameType.NotePreferred, 1);
        frame[DerpProtocol.FrameHeaderSize] = preferred ? (byte)1 : (byte)0;
        return NotePreferredFrameSize;
    }

    /// <summary>Ping with 8 opaque bytes.</summary>
    public static int WritePing(Span<byte> destination, ReadOnlySpan<byte> data) => WritePingLike(destination, DerpFrameType.Ping, data);

    /// <summary>Pong echoing a Ping's 8 bytes.</summary>
    public static int WritePong(Span<byte> destination, ReadOnlySpan<byte> data) => WritePingLike(destination, DerpFrameType.Pong, data);

    private static int WritePingLike(Span<byte> destination, DerpFrameType type, ReadOnlySpan<byte> data)
    {
        CheckLength(data, DerpProtocol.PingDataSize, nameof(data));
        var frame = destination[..PingFrameSize];
        DerpFrameHeader.Write(frame, type, DerpProtocol.PingDataSize);
        data.CopyTo(frame[DerpProtocol.FrameHeaderSize..]);
        return PingFrameSize;
    }

    private static void CheckLength(ReadOnlySpan<byte> value, int expected, string name)
    {
        if (value.Length != expected)
        {
            throw new ArgumentException($"Expected {expected} bytes, got {value.Length}.", name);
        }
    }
}
