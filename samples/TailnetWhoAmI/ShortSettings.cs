using Microsoft.Extensions.Configuration;

namespace TsNet.Samples.WhoAmI;

/// <summary>
/// The sample's short setting names (environment variables, or <c>--NAME=value</c> arguments), as Go tsnet's examples
/// take them: <c>TSNET_CONTROL_URL</c>, <c>TS_AUTHKEY</c>, <c>TSNET_HOSTNAME</c>, <c>TSNET_STATE_DIR</c>,
/// <c>TSNET_EPHEMERAL</c>, <c>TSNET_PORT</c>. Each given one overrides its key in appsettings.json (the
/// <c>Tailnet</c> section and <c>WhoAmI:Port</c>); the long forms (<c>Tailnet__Hostname=web</c>) work as well.
/// </summary>
internal static class ShortSettings
{
    private static readonly (string Name, string Key)[] s_names =
    [
        ("TSNET_CONTROL_URL", "Tailnet:ControlUrl"),
        ("TS_AUTHKEY", "Tailnet:AuthKey"),
        ("TSNET_HOSTNAME", "Tailnet:Hostname"),
        ("TSNET_STATE_DIR", "Tailnet:StateDirectory"),
        ("TSNET_EPHEMERAL", "Tailnet:Ephemeral"),
        ("TSNET_PORT", "WhoAmI:Port"),
    ];

    /// <summary>Adds the short settings found in <paramref name="configuration"/> under their long keys; returns an error message for a bad value.</summary>
    public static string? Apply(IConfigurationManager configuration)
    {
        var mapped = new Dictionary<string, string?>();
        foreach (var (name, key) in s_names)
        {
            if (configuration[name] is not { Length: > 0 } value)
            {
                continue;
            }

            var error = name switch
            {
                "TSNET_CONTROL_URL" when !(Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https") => "expected an http:// or https:// URL",
                "TSNET_EPHEMERAL" when !bool.TryParse(value, out _) => "expected true or false",
                "TSNET_PORT" when !int.TryParse(value, out var port) || port is < 1 or > 65535 => "expected a TCP port (1-65535)",
                _ => null,
            };
            if (error is not null)
            {
                return $"{name}={value}: {error}";
            }

            mapped[key] = value;
        }

        configuration.AddInMemoryCollection(mapped);
        return null;
    }
}
