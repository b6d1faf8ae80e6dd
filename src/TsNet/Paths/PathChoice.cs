using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// Where one WireGuard datagram to a peer goes: a direct UDP address, a DERP region, or both (while the direct path
/// is not trusted). <c>default</c> for <see cref="Direct"/> means no direct address; 0 for <see cref="DerpRegion"/>
/// means no region; both unset means no route.
/// </summary>
/// <param name="Direct">The peer's direct UDP address to send to, or <c>default</c>.</param>
/// <param name="DerpRegion">The DERP region to send through (addressed to the peer's node key), or 0.</param>
internal readonly record struct PathChoice(UnderlayAddress Direct, int DerpRegion)
{
    /// <summary>
    /// True when <see cref="Direct"/> is trusted (a pong within the trust window) and is the only path; false while
    /// discovery runs and a fallback path (DERP, or a static relay path) should carry the datagram.
    /// </summary>
    public bool Trusted { get; init; }

    /// <summary>True when neither a direct address nor a DERP region is known.</summary>
    public bool IsNone => !Direct.IsSet && DerpRegion == 0;
}
