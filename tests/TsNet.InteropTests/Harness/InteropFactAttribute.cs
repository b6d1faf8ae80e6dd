namespace TsNet.InteropTests.Harness;

/// <summary>
/// A fact that needs root, <c>/dev/net/tun</c> and the WireGuard tools. Outside CI it is skipped (with the reason)
/// when the machine cannot run it; under <c>CI=true</c> it never skips, and the test fails loudly through
/// <see cref="InteropEnvironment.EnsureReady"/> instead.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class InteropFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the environment is unavailable and not under CI.</summary>
    public InteropFactAttribute()
    {
        if (!InteropEnvironment.IsCi && InteropEnvironment.UnavailableReason is { } reason)
        {
            Skip = $"interop environment unavailable ({reason}); run as root with wireguard-go, wg, ip and ping installed, or set CI=true to force";
        }
    }
}
