namespace TsNet.WireGuard.Relay;

/// <summary>The first byte of a disco message's inner payload.</summary>
internal enum DiscoMessageType : byte
{
    Ping = 0x01,
    Pong = 0x02,
    CallMeMaybe = 0x03,
    BindUdpRelayEndpoint = 0x04,
    BindUdpRelayEndpointChallenge = 0x05,
    BindUdpRelayEndpointAnswer = 0x06,
    CallMeMaybeVia = 0x07,
    AllocateUdpRelayEndpointRequest = 0x08,
    AllocateUdpRelayEndpointResponse = 0x09,
}
