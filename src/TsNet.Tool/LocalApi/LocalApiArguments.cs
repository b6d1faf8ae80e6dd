using TsNet.Tool.Cli;

namespace TsNet.Tool.LocalApi;

/// <summary>The options by which <c>status</c>, <c>ping</c> and <c>whois</c> find the node's socket.</summary>
internal static class LocalApiArguments
{
    /// <summary>The socket path option, also accepted by <c>tsnet up</c>.</summary>
    public const string Socket = "--socket";

    /// <summary><c>tsnet up --socket PATH</c>'s help line.</summary>
    public static OptionSpec ServeOption { get; } = new(Socket, "PATH", "serve the local status API (tsnet status/ping/whois) on this Unix socket; default: <--state DIR>/tsnet.sock, else $XDG_RUNTIME_DIR/tsnet.sock, else /run/tsnet/tsnet.sock");

    /// <summary>The options, in the order the help lists them.</summary>
    public static IReadOnlyList<OptionSpec> Options { get; } =
    [
        new(Socket, "PATH", "the running node's local API socket (as given to tsnet up --socket)"),
        new("--state", "DIR", "the running node's state directory (its socket is DIR/tsnet.sock); default: $XDG_RUNTIME_DIR/tsnet.sock, else /run/tsnet/tsnet.sock"),
    ];

    /// <summary>The socket path the options name, else the default.</summary>
    /// <exception cref="UsageException">Both options are given.</exception>
    public static string SocketPath(ParsedArguments args, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        var socket = args.Value(Socket);
        var state = args.Value("--state");
        if (socket is not null && state is not null)
        {
            throw new UsageException("--socket and --state exclude each other: give the socket path, or the state directory that holds it");
        }

        return LocalApiSocketPath.Resolve(socket, state, environment);
    }
}
