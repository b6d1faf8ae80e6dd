using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>A peer's path as status output shows it.</summary>
/// <param name="Kind">How data currently travels.</param>
/// <param name="Direct">The best direct address (confirmed or not), or <c>default</c>.</param>
/// <param name="DerpRegion">The DERP region data goes through (home, else last arrival), or 0.</param>
/// <param name="Latency">The last measured round trip of the direct path, when known.</param>
internal readonly record struct PeerPathStatus(PathKind Kind, UnderlayAddress Direct, int DerpRegion, TimeSpan? Latency);
