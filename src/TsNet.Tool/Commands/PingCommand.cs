using System.Globalization;
using System.Text.Json;
using TsNet.Tool.Cli;
using TsNet.Tool.LocalApi;

namespace TsNet.Tool.Commands;

/// <summary>
/// <c>tsnet ping NAME|IP [-c N] [--socket PATH | --state DIR]</c>: ICMP echo through the running node, one a second;
/// one stdout line per reply, <c>pong from NAME (IP) via PATH in MS ms</c>, and one stderr line per attempt without.
/// Exit 0 when any reply came, 1 when none did.
/// </summary>
/// <param name="environment">Reads environment variables (<c>XDG_RUNTIME_DIR</c>); tests pass their own.</param>
internal sealed class PingCommand(Func<string, string?>? environment = null) : ICommand
{
    /// <summary>Pings when <c>-c</c> is not given.</summary>
    public const int DefaultCount = 4;

    /// <summary>One attempt's reply timeout and the pause before the next, with room for a loaded machine.</summary>
    private static readonly TimeSpan s_answerTimeout = LocalApiRequestHandler.PingTimeout + LocalApiRequestHandler.PingInterval + TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new(
        "ping",
        "NAME|IP [-c N] [--socket PATH | --state DIR]",
        "ping a peer through the running node (ICMP echo, one a second) and show the path of each reply",
        [
            new OptionSpec("--count", "N", string.Create(CultureInfo.InvariantCulture, $"how many pings (1-{LocalApiProtocol.MaxPingCount}; default {DefaultCount})")) { ShortName = "-c" },
            .. LocalApiArguments.Options,
        ])
    {
        Arguments = ["NAME|IP"],
    };

    /// <inheritdoc/>
    public async Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var target = args.Arguments[0];
        if (!LocalApiProtocol.IsValidPingTarget(target))
        {
            throw new UsageException($"'{target}' is neither a peer name nor an IP address");
        }

        var count = ParseCount(args.Value("--count"));
        var path = LocalApiArguments.SocketPath(args, environment ?? Environment.GetEnvironmentVariable);
        var replies = 0;
        var exitCode = await LocalApiCall.RunAsync(Spec.Name, path, LocalApiProtocol.PingRequest(target, count), s_answerTimeout, console, async answer =>
        {
            switch (answer.Kind)
            {
                case LocalApiAnswerKind.Pong:
                    replies++;
                    await console.Out.WriteLineAsync(LocalApiOutput.PongLine(answer.Value.Deserialize(LocalApiJsonContext.Default.PingReply)!)).ConfigureAwait(false);
                    break;
                case LocalApiAnswerKind.NoReply:
                    await console.Error.WriteLineAsync($"no reply from {target}: {answer.Text}").ConfigureAwait(false);
                    break;
                default:
                    await console.Error.WriteLineAsync($"tsnet ping: unexpected answer '{answer.Kind}'").ConfigureAwait(false);
                    break;
            }

            return replies > 0 ? ExitCodes.Success : ExitCodes.Failure;
        }, cancellationToken).ConfigureAwait(false);
        return replies > 0 ? ExitCodes.Success : exitCode;
    }

    /// <summary>The <c>-c</c> value: 1–100, default <see cref="DefaultCount"/>.</summary>
    /// <exception cref="UsageException">Not an integer in range.</exception>
    internal static int ParseCount(string? text)
    {
        if (text is null)
        {
            return DefaultCount;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= LocalApiProtocol.MaxPingCount
            ? count
            : throw new UsageException($"-c {text}: expected a count from 1 to {LocalApiProtocol.MaxPingCount}");
    }
}
