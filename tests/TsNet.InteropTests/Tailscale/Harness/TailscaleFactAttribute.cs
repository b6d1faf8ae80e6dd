using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// A fact that runs the real Tailscale binaries (<see cref="TailscaleBinaries"/>; no root needed). Outside CI it is
/// skipped with the reason when they are not usable here; under <c>CI=true</c> it never skips and the test fails
/// through <see cref="TailscaleBinaries.EnsureAvailable"/> instead. Tests carry <c>[Trait("Category", "Tailscale")]</c>
/// (<see cref="Category"/>) so a runner without the binaries (GitHub) can leave them out explicitly by filter.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class TailscaleFactAttribute : FactAttribute
{
    /// <summary>The trait value of every Tailscale interop test: <c>--filter "Category!=Tailscale"</c> leaves them out.</summary>
    public const string Category = "Tailscale";

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the binaries are unusable and not under CI.</summary>
    public TailscaleFactAttribute()
    {
        if (!InteropEnvironment.IsCi && TailscaleBinaries.UnavailableReason is { } reason)
        {
            Skip = $"Tailscale binaries unavailable ({reason}); see tests/TsNet.InteropTests/README.md, or set CI=true to force";
        }
    }
}
