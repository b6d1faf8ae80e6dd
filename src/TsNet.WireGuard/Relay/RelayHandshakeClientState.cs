namespace TsNet.WireGuard.Relay;

/// <summary>Client side of the bind handshake (tailscale's shared handshake-state numbering: 0, 1, 3).</summary>
internal enum RelayHandshakeClientState
{
    Init = 0,
    BindSent = 1,
    AnswerSent = 3,
}
