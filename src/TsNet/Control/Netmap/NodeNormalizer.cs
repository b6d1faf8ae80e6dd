using TsNet.Control.Protocol;

namespace TsNet.Control.Netmap;

/// <summary>
/// Brings a node from the wire into one form (the Go client's <c>upgradeNode</c>, fixtures A.6): the home DERP as
/// <c>HomeDERP</c> (from the legacy <c>127.3.3.40:&lt;region&gt;</c> string when the int is 0; the string is dropped),
/// <c>AllowedIPs</c> null = <c>Addresses</c> (empty stays empty), and an unsigned peer's AllowedIPs
/// clamped to its addresses.
/// </summary>
internal static class NodeNormalizer
{
    /// <summary>The normalised node (the same instance when nothing changes).</summary>
    public static Node Normalize(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var result = node;
        if (result.DERP is not null)
        {
            result = result with { HomeDERP = result.EffectiveHomeDerp, DERP = null };
        }

        // The same list, not a copy as in Go: the wire lists are read-only here, and a shared list tells the
        // registry builder that AllowedIPs are the addresses (parsed once, held once).
        if ((result.AllowedIPs is null && result.Addresses is not null) || (result.UnsignedPeerAPIOnly && !ReferenceEquals(result.AllowedIPs, result.Addresses)))
        {
            result = result with { AllowedIPs = result.Addresses };
        }

        return result;
    }
}
