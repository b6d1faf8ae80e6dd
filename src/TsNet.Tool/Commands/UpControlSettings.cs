using System.Net;

namespace TsNet.Tool.Commands;

/// <summary>
/// The control-mode options of <c>tsnet up --login-server URL</c>, validated: what the node registers with. They map
/// one to one onto the <see cref="TailnetServerOptions"/> control members (<see cref="ToOptions"/>).
/// </summary>
/// <param name="LoginServer">The coordination server (<c>--login-server</c>): an absolute http or https URL.</param>
/// <param name="AuthKey">The auth key (<c>--authkey</c>, or read from the file named by <c>--authkey file:PATH</c>); null: <c>TS_AUTHKEY</c>, else interactive login.</param>
/// <param name="Hostname">The node's host name (<c>--hostname</c>); null: this machine's host name, sanitised (see <see cref="DefaultHostname"/>).</param>
/// <param name="StateDirectory">Where the node keeps its keys and login (<c>--state</c>); null only with <paramref name="Ephemeral"/>.</param>
/// <param name="Ephemeral">Register as an ephemeral node (<c>--ephemeral</c>).</param>
/// <param name="AdvertiseTags">ACL tags to ask for (<c>--advertise-tags</c>).</param>
/// <param name="AdvertiseRoutes">Subnet routes to offer (<c>--advertise-routes</c>).</param>
/// <param name="AcceptRoutes">Use the routes other nodes offer (<c>--accept-routes</c>).</param>
internal sealed record UpControlSettings(
    Uri LoginServer,
    string? AuthKey,
    string? Hostname,
    string? StateDirectory,
    bool Ephemeral,
    IReadOnlyList<string> AdvertiseTags,
    IReadOnlyList<IPNetwork> AdvertiseRoutes,
    bool AcceptRoutes)
{
    /// <summary>The host name a node gets without <c>--hostname</c>: the machine's, as <c>tailscale up</c> does.</summary>
    public static string DefaultHostname => UpControlArguments.SanitizeHostname(Environment.MachineName);

    /// <summary>
    /// The node's options in control mode. The auth key falls back to <paramref name="environment"/>'s
    /// <c>TS_AUTHKEY</c> (api.md: the flag first, then the variable, then interactive login).
    /// </summary>
    /// <param name="environment">Reads an environment variable (<see cref="Environment.GetEnvironmentVariable(string)"/>; tests pass their own).</param>
    public TailnetServerOptions ToOptions(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var options = new TailnetServerOptions
        {
            ControlUrl = LoginServer,
            AuthKey = AuthKey ?? (environment("TS_AUTHKEY")?.Trim() is { Length: > 0 } fromEnvironment ? fromEnvironment : null),
            Hostname = Hostname ?? DefaultHostname,
            StateDirectory = StateDirectory,
            Ephemeral = Ephemeral,
            AcceptRoutes = AcceptRoutes,
        };
        foreach (var tag in AdvertiseTags)
        {
            options.AdvertiseTags.Add(tag);
        }

        foreach (var route in AdvertiseRoutes)
        {
            options.AdvertiseRoutes.Add(route);
        }

        return options;
    }
}
