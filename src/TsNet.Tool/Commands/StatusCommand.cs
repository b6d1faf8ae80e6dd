using System.Text.Json;
using TsNet.Tool.Cli;
using TsNet.Tool.LocalApi;

namespace TsNet.Tool.Commands;

/// <summary>
/// <c>tsnet status [--json] [--socket PATH | --state DIR]</c>: the running node and its peers (name, addresses, path,
/// last handshake, bytes) as a table, or the node's <see cref="TailnetStatus"/> JSON.
/// </summary>
/// <param name="environment">Reads environment variables (<c>XDG_RUNTIME_DIR</c>); tests pass their own.</param>
internal sealed class StatusCommand(Func<string, string?>? environment = null) : ICommand
{
    /// <summary>How long the node has to answer (its status waits at most a second for the dataplane).</summary>
    private static readonly TimeSpan s_answerTimeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new(
        "status",
        "[--json] [--socket PATH | --state DIR]",
        "show the node that 'tsnet up' runs and its peers: name, addresses, path, last handshake, bytes",
        [new OptionSpec("--json", null, "print the node's status as JSON (TailnetStatus) instead of a table"), .. LocalApiArguments.Options]);

    /// <inheritdoc/>
    public Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var path = LocalApiArguments.SocketPath(args, environment ?? Environment.GetEnvironmentVariable);
        var json = args.Has("--json");
        return LocalApiCall.RunAsync(Spec.Name, path, LocalApiProtocol.Status, s_answerTimeout, console, async answer =>
        {
            if (answer.Kind != LocalApiAnswerKind.Status)
            {
                await console.Error.WriteLineAsync($"tsnet status: unexpected answer '{answer.Kind}'").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            if (json)
            {
                await console.Out.WriteAsync(LocalApiOutput.IndentedJson(answer.Value)).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            var status = answer.Value.Deserialize(TailnetJson.Status)!;
            await console.Out.WriteAsync(LocalApiOutput.Status(status, DateTimeOffset.UtcNow)).ConfigureAwait(false);
            return ExitCodes.Success;
        }, cancellationToken);
    }
}
