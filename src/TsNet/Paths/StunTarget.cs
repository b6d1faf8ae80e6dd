using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>One STUN server netcheck probes: a DERP node's STUN address (resolved by the caller) and its region's scoring.</summary>
/// <param name="RegionId">The DERP region the node belongs to.</param>
/// <param name="Address">The node's STUN UDP address.</param>
/// <param name="ScoreMultiplier">The DERP map's <c>HomeParams.RegionScore</c> for the region (≤ 0 = 1).</param>
/// <param name="CanBeHome">False for regions marked <c>NoMeasureNoHome</c>/avoided: measured at most, never chosen as home.</param>
internal readonly record struct StunTarget(int RegionId, UnderlayAddress Address, double ScoreMultiplier, bool CanBeHome);
