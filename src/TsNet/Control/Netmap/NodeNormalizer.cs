using TsNet.Control.Protocol;

namespace TsNet.Control.Netmap;

/// <summary>
/// Brings a node from the wire into one form (the Go client's <c>upgradeNode</c>, fixtures A.6): the home DERP as
/// <c>HomeDERP</c> (from the legacy <c>127.3.3.40:&lt;region&gt;</c> string when the int is 0; the string is dropped),
/// <c>AllowedIPs</c> null = a copy of <c>Addresses</c> (empty stays empty), and an unsigned peer's AllowedIPs
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

        if (result.AllowedIPs is null || result.UnsignedPeerAPIOnly)
        {
            result = result with { AllowedIPs = result.Addresses is { } addresses ? [.. addresses] : null };
        }

        return result;
    }
}
