using System.Net;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane;

/// <summary>
/// A peer's configuration as the dataplane applies it (resolved from a registry entry). <paramref name="Entry"/> is
/// the registry entry it came from, so the dataplane can tell whether what it applied is still current. A relayed
/// peer's <paramref name="Endpoint"/> is its relay path; its configured endpoint, if any, is
/// <paramref name="RelayedPeerDirect"/> (static path selection between the two).
/// </summary>
internal sealed record PeerSettings(
    byte[] PublicKey,
    byte[]? PresharedKey,
    UnderlayAddress? Endpoint,
    string? EndpointHost,
    IReadOnlyList<IPNetwork> AllowedIps,
    TimeSpan PersistentKeepalive,
    string? Name,
    RelayPathSettings? Relay = null,
    Registry.RegistryPeer? Entry = null,
    UnderlayAddress? RelayedPeerDirect = null);

/// <summary>A peer's relay path as the dataplane uses it: relay address (VNI 0), its disco key, the VNI, the peer's disco key.</summary>
internal sealed record RelayPathSettings(UnderlayAddress Server, DiscoKey ServerKey, uint Vni, DiscoKey PeerKey)
{
    /// <summary>The peer's WireGuard endpoint: the relay's address on this VNI.</summary>
    public UnderlayAddress Endpoint => Server.WithVni(Vni);
}
