using TsNet.Tool.Cli;
using TsNet.Tool.LocalApi;

namespace TsNet.Tool.Commands;

/// <summary>
/// What <c>status</c>, <c>ping</c> and <c>whois</c> share: ask the node on the socket, hand each answer line to the
/// command, and turn "no node answers" and a node's error into one stderr line and exit 1.
/// </summary>
internal static class LocalApiCall
{
    /// <summary>
    /// Sends <paramref name="request"/> to the node on <paramref name="socketPath"/> and passes each answer to
    /// <paramref name="onAnswer"/>; returns <paramref name="onAnswer"/>'s verdict on the whole (its last return value),
    /// or <see cref="ExitCodes.Failure"/> when no node answers or the node reports an error.
    /// </summary>
    public static async Task<int> RunAsync(string command, string socketPath, string request, TimeSpan lineTimeout, CliConsole console, Func<LocalApiAnswer, Task<int>> onAnswer, CancellationToken cancellationToken)
    {
        var exitCode = ExitCodes.Failure;
        try
        {
            await foreach (var answer in LocalApiClient.AskAsync(socketPath, request, lineTimeout, cancellationToken).ConfigureAwait(false))
            {
                if (answer.Kind == LocalApiAnswerKind.Error)
                {
                    await console.Error.WriteLineAsync($"tsnet {command}: {answer.Text}").ConfigureAwait(false);
                    return ExitCodes.Failure;
                }

                exitCode = await onAnswer(answer).ConfigureAwait(false);
            }
        }
        catch (LocalApiException e)
        {
            await console.Error.WriteLineAsync($"tsnet {command}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // SIGINT while waiting (a long ping): what was printed stands.
        }

        return exitCode;
    }
}
