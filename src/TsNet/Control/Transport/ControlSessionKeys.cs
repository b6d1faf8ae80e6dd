namespace TsNet.Control.Transport;

/// <summary>What a completed ts2021 handshake yields for one side: its send and receive transport keys, the
/// final handshake hash (equal on both sides), the peer's static key and the protocol version.</summary>
internal sealed record ControlSessionKeys(
    byte[] SendKey,
    byte[] ReceiveKey,
    byte[] HandshakeHash,
    MachinePublicKey Peer,
    ushort ProtocolVersion);
