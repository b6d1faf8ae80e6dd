using System.Buffers.Binary;
using TsNet.WireGuard.Crypto;

namespace TsNet.Derp;

/// <summary>
/// Checked readers for the payloads of the frames a DERP server sends (sans-IO). Malformed input returns false,
/// never throws.
/// </summary>
internal static class DerpFrameParser
{
    private const int ServerKeyOffset = 8;
    private const int PeerGoneReasonOffset = DerpProtocol.KeySize;
    private const int RestartingTryForOffset = 4;

    /// <summary>ServerKey: the magic, then the 32-byte server public key (extra bytes ignored).</summary>
    public static bool TryParseServerKey(ReadOnlySpan<byte> payload, Span<byte> serverKey)
    {
        if (payload.Length < DerpProtocol.ServerKeyMinLength || !payload[..DerpProtocol.Magic.Length].SequenceEqual(DerpProtocol.Magic)
            || serverKey.Length != DerpProtocol.KeySize)
        {
            return false;
        }

        payload.Slice(ServerKeyOffset, DerpProtocol.KeySize).CopyTo(serverKey);
        return true;
    }

    /// <summary>
    /// ServerInfo: <c>nonce(24) | box(server → client, JSON)</c>, opened with the precomputed box key. The JSON is
    /// written to <paramref name="scratch"/> (at least the payload length); false when the box does not open or the
    /// JSON is not an object.
    /// </summary>
    public static bool TryParseServerInfo(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> sharedKey, Span<byte> scratch, out DerpServerInfo info)
    {
        info = default;
        if (payload.Length < DerpProtocol.NonceSize + NaClBox.Overhead)
        {
            return false;
        }

        var box = payload[DerpProtocol.NonceSize..];
        var jsonLength = box.Length - NaClBox.Overhead;
        if (scratch.Length < jsonLength)
        {
            return false;
        }

        var json = scratch[..jsonLength];
        return NaClBox.Open(sharedKey, payload[..DerpProtocol.NonceSize], box, json) && DerpServerInfo.TryParse(json, out info);
    }

    /// <summary>RecvPacket (v2): at least the 32-byte source key; the packet is the rest.</summary>
    public static bool IsValidRecvPacketLength(uint length) =>
        length >= DerpProtocol.KeySize && length <= DerpProtocol.KeySize + DerpProtocol.MaxPacketSize;

    /// <summary>PeerGone: the 32-byte peer key, then an optional reason byte (absent = disconnected).</summary>
    public static bool TryParsePeerGone(ReadOnlySpan<byte> payload, Span<byte> peerKey, out DerpPeerGoneReason reason)
    {
        reason = DerpPeerGoneReason.Disconnected;
        if (payload.Length < DerpProtocol.KeySize || peerKey.Length != DerpProtocol.KeySize)
        {
            return false;
        }

        payload[..DerpProtocol.KeySize].CopyTo(peerKey);
        if (payload.Length > PeerGoneReasonOffset)
        {
            reason = (DerpPeerGoneReason)payload[PeerGoneReasonOffset];
        }

        return true;
    }

    /// <summary>Ping or Pong: the first 8 bytes are the data (a longer payload's extra bytes are ignored).</summary>
    public static bool TryParsePingData(ReadOnlySpan<byte> payload, Span<byte> data)
    {
        if (payload.Length < DerpProtocol.PingDataSize || data.Length != DerpProtocol.PingDataSize)
        {
            return false;
        }

        payload[..DerpProtocol.PingDataSize].CopyTo(data);
        return true;
    }

    /// <summary>Restarting: reconnect in, then keep trying for (milliseconds, big-endian uint32 each).</summary>
    public static bool TryParseRestarting(ReadOnlySpan<byte> payload, out TimeSpan reconnectIn, out TimeSpan tryFor)
    {
        if (payload.Length < DerpProtocol.RestartingLength)
        {
            reconnectIn = tryFor = default;
            return false;
        }

        reconnectIn = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32BigEndian(payload));
        tryFor = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32BigEndian(payload[RestartingTryForOffset..]));
        return true;
    }
}
