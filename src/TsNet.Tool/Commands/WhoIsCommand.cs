using System.Text.Json;
using TsNet.Tool.Cli;
using TsNet.Tool.LocalApi;

namespace TsNet.Tool.Commands;

/// <summary>
/// <c>tsnet whois IP[:PORT] [--json] [--socket PATH | --state DIR]</c>: who the running node says is behind a tailnet
/// address, as <c>key: value</c> lines or <see cref="TailnetPeerIdentity"/> JSON; exit 1 when no peer has it.
/// </summary>
/// <param name="environment">Reads environment variables (<c>XDG_RUNTIME_DIR</c>); tests pass their own.</param>
internal sealed class WhoIsCommand(Func<string, string?>? environment = null) : ICommand
{
    private static readonly TimeSpan s_answerTimeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new(
        "whois",
        "IP[:PORT] [--json] [--socket PATH | --state DIR]",
        "show who is behind a tailnet address (name, node key, addresses, tags, user), as the running node knows it",
        [new OptionSpec("--json", null, "print the identity as JSON (TailnetPeerIdentity)"), .. LocalApiArguments.Options])
    {
        Arguments = ["IP[:PORT]"],
    };

    /// <inheritdoc/>
    public Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var target = args.Arguments[0];
        if (!LocalApiProtocol.TryParseWhoIsTarget(target, out var endpoint))
        {
            throw new UsageException($"'{target}' is not IP or IP:PORT (IPv6 with a port in brackets: [fd7a::1]:80)");
        }

        var path = LocalApiArguments.SocketPath(args, environment ?? Environment.GetEnvironmentVariable);
        var json = args.Has("--json");
        return LocalApiCall.RunAsync(Spec.Name, path, LocalApiProtocol.WhoIsRequest(endpoint), s_answerTimeout, console, async answer =>
        {
            switch (answer.Kind)
            {
                case LocalApiAnswerKind.Identity when json:
                    await console.Out.WriteAsync(LocalApiOutput.IndentedJson(answer.Value)).ConfigureAwait(false);
                    return ExitCodes.Success;
                case LocalApiAnswerKind.Identity:
                    await console.Out.WriteAsync(LocalApiOutput.WhoIsLines(answer.Value.Deserialize(TailnetJson.PeerIdentity)!)).ConfigureAwait(false);
                    return ExitCodes.Success;
                case LocalApiAnswerKind.Unknown:
                    await console.Error.WriteLineAsync($"tsnet whois: {target}: {answer.Text}").ConfigureAwait(false);
                    return ExitCodes.Failure;
                default:
                    await console.Error.WriteLineAsync($"tsnet whois: unexpected answer '{answer.Kind}'").ConfigureAwait(false);
                    return ExitCodes.Failure;
            }
        }, cancellationToken);
    }
}
