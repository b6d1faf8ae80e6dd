using TsNet.Tool.Cli;

namespace TsNet.Tool.Commands;

/// <summary>One <c>tsnet</c> command: its spec (options, help) and what it does.</summary>
internal interface ICommand
{
    /// <summary>Name, options and help text.</summary>
    CommandSpec Spec { get; }

    /// <summary>Runs the command with parsed arguments; returns the exit code.</summary>
    /// <param name="args">The parsed options (help was not requested).</param>
    /// <param name="console">Where to read and write.</param>
    /// <param name="cancellationToken">Cancelled on SIGINT/SIGTERM.</param>
    /// <exception cref="UsageException">The options are inconsistent (exit 2 with the usage).</exception>
    Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken);
}
