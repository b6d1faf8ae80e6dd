namespace TsNet.Derp;

/// <summary>DERP frame types (derp.md §3); the first byte of every frame.</summary>
internal enum DerpFrameType : byte
{
    /// <summary>S→C: magic + the server's public key.</summary>
    ServerKey = 0x01,

    /// <summary>C→S: client key + nonce + boxed ClientInfo JSON.</summary>
    ClientInfo = 0x02,

    /// <summary>S→C: nonce + boxed ServerInfo JSON.</summary>
    ServerInfo = 0x03,

    /// <summary>C→S: destination key + packet.</summary>
    SendPacket = 0x04,

    /// <summary>S→C (v2): source key + packet.</summary>
    RecvPacket = 0x05,

    /// <summary>S→C: empty; the connection is alive.</summary>
    KeepAlive = 0x06,

    /// <summary>C→S: 1 byte, 1 = this is my home region.</summary>
    NotePreferred = 0x07,

    /// <summary>S→C: peer key + optional reason byte.</summary>
    PeerGone = 0x08,

    /// <summary>S→C, mesh watchers only.</summary>
    PeerPresent = 0x09,

    /// <summary>Mesh C→S.</summary>
    ForwardPacket = 0x0a,

    /// <summary>Mesh C→S.</summary>
    WatchConns = 0x10,

    /// <summary>Mesh C→S.</summary>
    ClosePeer = 0x11,

    /// <summary>Both ways: 8 bytes the receiver echoes in a <see cref="Pong"/>.</summary>
    Ping = 0x12,

    /// <summary>Both ways: the 8 bytes of a <see cref="Ping"/>.</summary>
    Pong = 0x13,

    /// <summary>S→C: UTF-8 problem text; empty = healthy again.</summary>
    Health = 0x14,

    /// <summary>S→C: two big-endian uint32 millisecond durations (reconnect in, try for).</summary>
    Restarting = 0x15,
}
