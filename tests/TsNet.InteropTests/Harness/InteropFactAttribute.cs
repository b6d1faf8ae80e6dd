namespace TsNet.InteropTests.Harness;

/// <summary>
/// A fact that needs root, <c>/dev/net/tun</c> and the WireGuard tools. Outside CI it is skipped (with the reason)
/// when the machine cannot run it; under <c>CI=true</c> it never skips, and the test fails loudly through
/// <see cref="InteropEnvironment.EnsureReady"/> instead.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class InteropFactAttribute : FactAttribute
{
    private string _requires = string.Empty;

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the environment is unavailable and not under CI.</summary>
    public InteropFactAttribute()
    {
        if (!InteropEnvironment.IsCi && InteropEnvironment.UnavailableReason is { } reason)
        {
            Skip = $"interop environment unavailable ({reason}); run as root with wireguard-go, wg, ip and ping installed, or set CI=true to force";
        }
    }

    /// <summary>
    /// Extra tools the test needs besides <see cref="InteropEnvironment.RequiredTools"/>, space-separated (e.g.
    /// <c>"socat curl"</c>). Outside CI a missing one skips the test; the test itself calls
    /// <see cref="InteropEnvironment.EnsureTools"/> so that under CI it fails instead.
    /// </summary>
    public string Requires
    {
        get => _requires;
        set
        {
            _requires = value ?? string.Empty;
            var missing = InteropEnvironment.MissingTools(_requires.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            if (Skip is null && !InteropEnvironment.IsCi && missing.Count > 0)
            {
                Skip = $"missing tools: {string.Join(", ", missing)} (see .ci/run), or set CI=true to force";
            }
        }
    }
}
