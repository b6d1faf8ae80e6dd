using System.Net;
using System.Reflection;

namespace TsNet.Control.Protocol;

/// <summary>
/// The Hostinfo this node sends (protocol doc §8.5): host name, OS, client version, the embedding app, userspace
/// networking, advertised routes and requested tags, and the home DERP region and region latencies once known.
/// </summary>
internal static class HostinfoFactory
{
    /// <summary><c>Hostinfo.App</c>: tells servers and admins the node is an embedded TsNet app (Go tsnet says <c>tsnet</c>).</summary>
    public const string AppName = "tsnet-dotnet";

    /// <summary>The Hostinfo for a node named <paramref name="hostname"/>.</summary>
    public static Hostinfo Create(
        string hostname,
        IReadOnlyCollection<IPNetwork>? advertiseRoutes = null,
        IReadOnlyCollection<string>? requestTags = null,
        int preferredDerp = 0,
        IReadOnlyDictionary<string, double>? derpLatency = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostname);
        return new Hostinfo
        {
            IPNVersion = Version,
            OS = OsName,
            OSVersion = Environment.OSVersion.VersionString,
            Hostname = hostname,
            App = AppName,
            Userspace = true,
            RoutableIPs = advertiseRoutes is { Count: > 0 } routes ? RouteTexts(routes) : null,
            RequestTags = requestTags is { Count: > 0 } tags ? [.. tags] : null,
            NetInfo = preferredDerp != 0 || derpLatency is { Count: > 0 }
                ? new NetInfo { PreferredDERP = preferredDerp, DERPLatency = derpLatency is { Count: > 0 } ? derpLatency : null }
                : null,
        };
    }

    /// <summary>Tailscale's OS names: <c>linux</c>, <c>windows</c>, <c>macOS</c>, else the runtime's lower-case name.</summary>
    public static string OsName =>
        OperatingSystem.IsLinux() ? "linux"
        : OperatingSystem.IsWindows() ? "windows"
        : OperatingSystem.IsMacOS() ? "macOS"
        : OperatingSystem.IsFreeBSD() ? "freebsd"
        : System.Runtime.InteropServices.RuntimeInformation.OSDescription.ToLowerInvariant();

    /// <summary>The TsNet assembly's informational version (without the source revision suffix).</summary>
    public static string Version { get; } = ReadVersion();

    /// <summary>Each route's text, in order (a loop: no LINQ code for <see cref="IPNetwork"/> in the native tool).</summary>
    private static string[] RouteTexts(IReadOnlyCollection<IPNetwork> routes)
    {
        var texts = new string[routes.Count];
        int i = 0;
        foreach (var route in routes)
        {
            texts[i++] = route.ToString();
        }

        return texts;
    }

    private static string ReadVersion()
    {
        var version = typeof(HostinfoFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(HostinfoFactory).Assembly.GetName().Version?.ToString()
            ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
