namespace TsNet.Tool.LocalApi;

/// <summary>
/// Where <c>tsnet up</c> serves its local API and where <c>status</c>/<c>ping</c>/<c>whois</c> look for it (api.md):
/// <c>--socket PATH</c>; else <c>&lt;state dir&gt;/tsnet.sock</c> with <c>--state</c>; else
/// <c>$XDG_RUNTIME_DIR/tsnet.sock</c>; else <c>/run/tsnet/tsnet.sock</c>.
/// </summary>
internal static class LocalApiSocketPath
{
    /// <summary>The socket's file name in the state or runtime directory.</summary>
    public const string FileName = "tsnet.sock";

    /// <summary>The directory used when there is neither a state directory nor <c>$XDG_RUNTIME_DIR</c>.</summary>
    public const string SystemDirectory = "/run/tsnet";

    /// <summary>The socket path for <paramref name="socket"/> (wins) or <paramref name="stateDirectory"/>, else the default.</summary>
    /// <param name="socket">The <c>--socket</c> value, or null.</param>
    /// <param name="stateDirectory">The <c>--state</c> value, or null.</param>
    /// <param name="environment">Reads an environment variable (tests pass their own).</param>
    public static string Resolve(string? socket, string? stateDirectory, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (socket is not null)
        {
            return Path.GetFullPath(socket);
        }

        if (stateDirectory is not null)
        {
            return Path.GetFullPath(Path.Combine(stateDirectory, FileName));
        }

        // XDG: an empty or relative value is invalid and must be ignored.
        return environment("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Path.IsPathRooted(runtime)
            ? Path.Combine(runtime, FileName)
            : Path.Combine(SystemDirectory, FileName);
    }
}
