using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using TsNet;

namespace TsNet.Extensions.Hosting;

/// <summary>
/// Binds a configuration section onto <see cref="TailnetServerOptions"/> by hand: the options hold types the
/// configuration binder cannot make (keys, networks, get-only lists, the logger factory; its source generator reports
/// SYSLIB1100/SYSLIB1101 for them), and a hand-written binder needs no reflection, so it stays trimming- and AOT-safe. A key it does not know, or a value it cannot read, is an error naming the key's
/// path (<c>Tailnet:ListenPort</c>), never silently ignored.
/// </summary>
internal static class TailnetConfigurationBinder
{
    /// <summary>Every key of the section, in the order the README lists them.</summary>
    public static readonly string[] Keys =
    [
        "ControlUrl", "AuthKey", "Hostname", "StateDirectory", "Ephemeral", "AdvertiseTags", "AdvertiseRoutes", "AcceptRoutes",
        "CapabilityVersion", "ListenPort", "Mtu", "QueueCapacity", "DnsSuffix", "Addresses", "PrivateKey", "WireGuardConfigFile",
    ];

    /// <summary>
    /// Sets on <paramref name="options"/> what <paramref name="section"/> holds: first the wg-quick file of
    /// <c>WireGuardConfigFile</c> if given, then every other key present.
    /// </summary>
    /// <param name="section">The node's configuration section.</param>
    /// <param name="options">The options to set.</param>
    /// <param name="contentRoot">What a relative <c>WireGuardConfigFile</c> is relative to; null: the current directory.</param>
    /// <param name="onWarning">Receives the wg-quick reader's warnings (ignored settings).</param>
    /// <exception cref="InvalidOperationException">An unknown key, or a value that cannot be read (the message names the key).</exception>
    /// <exception cref="WireGuardConfigException">The wg-quick file is invalid (the message names the file and line).</exception>
    /// <exception cref="IOException">The wg-quick file cannot be read.</exception>
    public static void Bind(IConfiguration section, TailnetServerOptions options, string? contentRoot, Action<string> onWarning)
    {
        foreach (var child in section.GetChildren())
        {
            if (!Keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"{PathOf(section, child.Key)}: not a TsNet setting; the settings are {string.Join(", ", Keys)}.");
            }
        }

        if (Text(section, "WireGuardConfigFile") is { } file)
        {
            var path = contentRoot is null ? Path.GetFullPath(file) : Path.GetFullPath(file, contentRoot);
            CopyWireGuardConfig(TailnetServerOptions.FromWireGuardConfigFile(path, onWarning), options);
        }

        if (Text(section, "ControlUrl") is { } control)
        {
            options.ControlUrl = Uri.TryCreate(control, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                ? url
                : throw Invalid(section, "ControlUrl", control, "an http:// or https:// URL");
        }

        options.AuthKey = Text(section, "AuthKey") ?? options.AuthKey;
        options.Hostname = Text(section, "Hostname") ?? options.Hostname;
        options.StateDirectory = Text(section, "StateDirectory") ?? options.StateDirectory;
        options.DnsSuffix = Text(section, "DnsSuffix") ?? options.DnsSuffix;
        options.Ephemeral = Boolean(section, "Ephemeral") ?? options.Ephemeral;
        options.AcceptRoutes = Boolean(section, "AcceptRoutes") ?? options.AcceptRoutes;
        options.CapabilityVersion = Integer(section, "CapabilityVersion") ?? options.CapabilityVersion;
        options.ListenPort = Integer(section, "ListenPort") ?? options.ListenPort;
        options.Mtu = Integer(section, "Mtu") ?? options.Mtu;
        options.QueueCapacity = Integer(section, "QueueCapacity") ?? options.QueueCapacity;
        if (Text(section, "PrivateKey") is { } key)
        {
            options.PrivateKey = WireGuardKey.TryParse(key, out var parsed)
                ? parsed
                : throw Invalid(section, "PrivateKey", "(hidden)", "a WireGuard key (44 characters of base64, as wg genkey prints)");
        }

        foreach (var tag in List(section, "AdvertiseTags"))
        {
            options.AdvertiseTags.Add(tag);
        }

        foreach (var route in Networks(section, "AdvertiseRoutes"))
        {
            options.AdvertiseRoutes.Add(route);
        }

        foreach (var address in Networks(section, "Addresses"))
        {
            options.Addresses.Add(address);
        }
    }

    /// <summary>What a wg-quick file sets (interface and peers), copied onto options the host's options pattern made.</summary>
    private static void CopyWireGuardConfig(TailnetServerOptions file, TailnetServerOptions options)
    {
        options.PrivateKey = file.PrivateKey;
        options.ListenPort = file.ListenPort;
        options.Mtu = file.Mtu;
        foreach (var address in file.Addresses)
        {
            options.Addresses.Add(address);
        }

        foreach (var peer in file.Peers)
        {
            options.Peers.Add(peer);
        }
    }

    /// <summary>The key's text; null when absent or empty (an empty value means "not set", as for environment variables).</summary>
    private static string? Text(IConfiguration section, string key) => section[key] is { Length: > 0 } value ? value.Trim() : null;

    private static bool? Boolean(IConfiguration section, string key) => Text(section, key) is { } text
        ? bool.TryParse(text, out var value) ? value : throw Invalid(section, key, text, "true or false")
        : null;

    private static int? Integer(IConfiguration section, string key) => Text(section, key) is { } text
        ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : throw Invalid(section, key, text, "a whole number")
        : null;

    /// <summary>A list: a JSON array (children <c>0</c>, <c>1</c>, …) or one comma-separated value (handy in environment variables).</summary>
    private static IEnumerable<string> List(IConfiguration section, string key)
    {
        var list = section.GetSection(key);
        var items = list.Value is { } joined
            ? joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : list.GetChildren().Select(child => child.Value?.Trim()).OfType<string>().Where(value => value.Length > 0);
        return items.ToArray();
    }

    private static IEnumerable<IPNetwork> Networks(IConfiguration section, string key)
    {
        foreach (var text in List(section, key))
        {
            yield return IPNetwork.TryParse(text, out var network)
                ? network
                : throw Invalid(section, key, text, "a network in CIDR notation (100.64.0.1/32, 10.0.0.0/24, fd7a:115c:a1e0::1/128)");
        }
    }

    private static InvalidOperationException Invalid(IConfiguration section, string key, string value, string expected) =>
        new($"{PathOf(section, key)}={value}: expected {expected}");

    private static string PathOf(IConfiguration section, string key) =>
        section is IConfigurationSection { Path: { Length: > 0 } path } ? ConfigurationPath.Combine(path, key) : key;
}
