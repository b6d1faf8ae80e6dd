using System.Net;
using System.Reflection;
using System.Text;

namespace TsNet;

// Control-mode rules (TailnetServerOptions.ControlUrl set): what the coordination server provides may not also be
// configured, and the settings the control session registers with are checked and copied here.
internal static partial class OptionsValidation
{
    /// <summary>Lowest capability version the client may announce: Headscale's minimum.</summary>
    public const int MinCapabilityVersion = 113;

    /// <summary>Highest capability version the client may announce: 120 would claim peer-relay support.</summary>
    public const int MaxCapabilityVersion = 119;

    /// <summary>Host name used when neither the options nor the entry assembly give a usable one.</summary>
    public const string FallbackHostname = "tsnet";

    /// <summary>Longest host name kept (one DNS label).</summary>
    private const int MaxHostnameLength = 63;

    /// <summary>
    /// Checks the control-mode settings; null in static mode (no <see cref="TailnetServerOptions.ControlUrl"/>).
    /// The result copies them into the server's private options (<see cref="ControlModeSettings.CopyTo"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A control-mode rule is broken (the message names the setting).</exception>
    private static ControlModeSettings? ValidateControlMode(TailnetServerOptions options)
    {
        if (options.ControlUrl is not { } url)
        {
            return null;
        }

        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"TailnetServerOptions.ControlUrl '{url}' is not an absolute http or https URL.", nameof(options));
        }

        if (options.Peers.Count > 0)
        {
            throw new ArgumentException("TailnetServerOptions.Peers must be empty with a ControlUrl: the coordination server provides the peers.", nameof(options));
        }

        if (options.Addresses.Count > 0)
        {
            throw new ArgumentException("TailnetServerOptions.Addresses must be empty with a ControlUrl: the coordination server assigns the addresses.", nameof(options));
        }

        if (!options.PrivateKey.IsEmpty)
        {
            throw new ArgumentException(
                "TailnetServerOptions.PrivateKey must not be set with a ControlUrl: the node keeps its node key in the StateDirectory (or in memory when Ephemeral).",
                nameof(options));
        }

        if (options.StateDirectory is null && !options.Ephemeral)
        {
            throw new ArgumentException(
                "TailnetServerOptions.StateDirectory is required with a ControlUrl (it keeps the machine and node keys so the node comes back as itself), unless Ephemeral is set.",
                nameof(options));
        }

        if (options.CapabilityVersion >= MaxCapabilityVersion + 1)
        {
            throw new ArgumentException(
                $"TailnetServerOptions.CapabilityVersion {options.CapabilityVersion} is not supported: 120 and above announce peer-relay support, which TsNet does not have; use {MinCapabilityVersion}-{MaxCapabilityVersion}.",
                nameof(options));
        }

        if (options.CapabilityVersion < MinCapabilityVersion)
        {
            throw new ArgumentException(
                $"TailnetServerOptions.CapabilityVersion {options.CapabilityVersion} is below {MinCapabilityVersion}, the oldest protocol TsNet speaks (Headscale's minimum); use {MinCapabilityVersion}-{MaxCapabilityVersion}.",
                nameof(options));
        }

        if (options.Mtu < Netstack.NetstackOptions.MinimumIpv6Mtu)
        {
            throw new ArgumentException(
                $"TailnetServerOptions.Mtu {options.Mtu} is below {Netstack.NetstackOptions.MinimumIpv6Mtu}: a tailnet gives every node an IPv6 address, which needs an MTU of at least {Netstack.NetstackOptions.MinimumIpv6Mtu}.",
                nameof(options));
        }

        foreach (var tag in options.AdvertiseTags)
        {
            if (tag is null || !tag.StartsWith("tag:", StringComparison.Ordinal) || tag.Length == "tag:".Length)
            {
                throw new ArgumentException($"TailnetServerOptions.AdvertiseTags: '{tag}' is not an ACL tag; tags look like tag:web.", nameof(options));
            }
        }

        foreach (var route in options.AdvertiseRoutes)
        {
            if (route.BaseAddress.AddressFamily is not (System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"TailnetServerOptions.AdvertiseRoutes: {route} is neither IPv4 nor IPv6.", nameof(options));
            }
        }

        if (options.Hostname is { } hostname && string.IsNullOrWhiteSpace(hostname))
        {
            throw new ArgumentException("TailnetServerOptions.Hostname is empty; give a name or leave it null (the program's name).", nameof(options));
        }

        return new ControlModeSettings(
            url,
            options.AuthKey,
            options.Hostname?.Trim() ?? SanitizeHostname(Assembly.GetEntryAssembly()?.GetName().Name),
            options.Ephemeral,
            [.. options.AdvertiseTags],
            IPNetworkLists.ToArray(options.AdvertiseRoutes),
            options.AcceptRoutes,
            options.CapabilityVersion);
    }

    /// <summary>
    /// A program name as a host name, as Go tsnet does with its binary's name: lower case, every character other than
    /// a letter, digit or hyphen becomes a hyphen, no leading or trailing hyphen, at most 63 characters;
    /// <see cref="FallbackHostname"/> when nothing is left.
    /// </summary>
    public static string SanitizeHostname(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return FallbackHostname;
        }

        var text = new StringBuilder(name.Length);
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            text.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' ? c : '-');
        }

        var sanitized = text.ToString().Trim('-');
        if (sanitized.Length > MaxHostnameLength)
        {
            sanitized = sanitized[..MaxHostnameLength].TrimEnd('-');
        }

        return sanitized.Length == 0 ? FallbackHostname : sanitized;
    }

    /// <summary>The validated control-mode settings, copied into the server's private options.</summary>
    private sealed record ControlModeSettings(
        Uri ControlUrl,
        string? AuthKey,
        string Hostname,
        bool Ephemeral,
        string[] AdvertiseTags,
        IPNetwork[] AdvertiseRoutes,
        bool AcceptRoutes,
        int CapabilityVersion)
    {
        public void CopyTo(TailnetServerOptions copy)
        {
            copy.ControlUrl = ControlUrl;
            copy.AuthKey = AuthKey;
            copy.Hostname = Hostname;
            copy.Ephemeral = Ephemeral;
            copy.AcceptRoutes = AcceptRoutes;
            copy.CapabilityVersion = CapabilityVersion;
            foreach (var tag in AdvertiseTags)
            {
                copy.AdvertiseTags.Add(tag);
            }

            foreach (var route in AdvertiseRoutes)
            {
                copy.AdvertiseRoutes.Add(route);
            }
        }
    }
}
