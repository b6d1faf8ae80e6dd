namespace TsNet.WireGuard.Protocol;

/// <summary>Where a peer's Noise handshake stands (wireguard-go <c>handshakeState</c>).</summary>
internal enum HandshakeState
{
    Zeroed,
    InitiationCreated,
    InitiationConsumed,
    ResponseCreated,
    ResponseConsumed,
}
