using System.Net;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane;

/// <summary>A peer's configuration as the dataplane applies it (resolved from <see cref="TailnetPeer"/>).</summary>
internal sealed record PeerSettings(
    byte[] PublicKey,
    byte[]? PresharedKey,
    UnderlayAddress? Endpoint,
    string? EndpointHost,
    IReadOnlyList<IPNetwork> AllowedIps,
    TimeSpan PersistentKeepalive,
    string? Name);
