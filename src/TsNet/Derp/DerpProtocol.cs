namespace TsNet.Derp;

/// <summary>DERP protocol constants (derp.md §2–§4).</summary>
internal static class DerpProtocol
{
    /// <summary>Protocol version this client speaks (v2: RecvPacket carries the source key).</summary>
    public const int ProtocolVersion = 2;

    /// <summary>Frame header: type (1) + big-endian payload length (4).</summary>
    public const int FrameHeaderSize = 5;

    /// <summary>Node (WireGuard) public key size.</summary>
    public const int KeySize = 32;

    /// <summary>NaCl box nonce size (ClientInfo/ServerInfo).</summary>
    public const int NonceSize = 24;

    /// <summary>Most packet bytes in a SendPacket/RecvPacket frame (derp.MaxPacketSize).</summary>
    public const int MaxPacketSize = 64 * 1024;

    /// <summary>Longest frame the client accepts; a longer one closes the connection (as the Go client does).</summary>
    public const int MaxFrameLength = 1 << 20;

    /// <summary>Ping/Pong payload size.</summary>
    public const int PingDataSize = 8;

    /// <summary>ServerKey payload: magic (8) + key (32); more bytes may follow.</summary>
    public const int ServerKeyMinLength = 8 + KeySize;

    /// <summary>Restarting payload: reconnect-in and try-for milliseconds.</summary>
    public const int RestartingLength = 8;

    /// <summary>SendPacket frame bytes in front of the packet: header + destination key.</summary>
    public const int SendPacketOverhead = FrameHeaderSize + KeySize;

    /// <summary>"DERP🔑": the first 8 bytes of a ServerKey payload.</summary>
    public static ReadOnlySpan<byte> Magic => [0x44, 0x45, 0x52, 0x50, 0xf0, 0x9f, 0x94, 0x91];

    /// <summary>The ClientInfo JSON a regular client sends (exact Go field names; no mesh key).</summary>
    public static ReadOnlySpan<byte> ClientInfoJson => """{"version":2,"CanAckPings":true}"""u8;
}
