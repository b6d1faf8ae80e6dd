using System.Text;
using TsNet.Tool.Commands;

namespace TsNet.Tool.Cli;

/// <summary>
/// The <c>tsnet</c> command line: picks the command, parses its options, prints help or usage errors, and maps the
/// outcome to an exit code (0 success, 1 runtime failure, 2 usage or configuration error).
/// </summary>
internal static class TsNetCli
{
    /// <summary>Every command, in the order the top-level help lists them.</summary>
    public static IReadOnlyList<ICommand> Commands { get; } =
    [
        new DemoCommand(),
        new UpCommand(),
        new StatusCommand(),
        new PingCommand(),
        new WhoIsCommand(),
        new RelayCommand(),
        new GenKeyCommand(),
        new PubKeyCommand(),
    ];

    /// <summary>The top-level help: one line per command.</summary>
    public static string HelpText
    {
        get
        {
            var text = new StringBuilder("usage: tsnet <command> [options]\n\ncommands:\n");
            int width = 0;
            foreach (var command in Commands)
            {
                width = Math.Max(width, command.Spec.Name.Length);
            }

            foreach (var command in Commands)
            {
                text.Append("  ").Append(command.Spec.Name.PadRight(width)).Append("  ").Append(command.Spec.Summary).Append('\n');
            }

            text.Append("\n'tsnet <command> --help' shows a command's options.\n");
            return text.ToString();
        }
    }

    /// <summary>Runs the command line <paramref name="args"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        if (args.Count == 0)
        {
            await console.Error.WriteAsync(HelpText).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (args[0] is "-h" or "--help" or "help")
        {
            await console.Out.WriteAsync(HelpText).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var command = Commands.FirstOrDefault(c => c.Spec.Name == args[0]);
        if (command is null)
        {
            await console.Error.WriteAsync($"tsnet: unknown command '{args[0]}'\n\n{HelpText}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        try
        {
            var options = new string[args.Count - 1];
            for (int i = 0; i < options.Length; i++)
            {
                options[i] = args[i + 1];
            }

            var parsed = ArgumentParser.Parse(command.Spec, options);
            if (parsed.HelpRequested)
            {
                await console.Out.WriteAsync(command.Spec.HelpText).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            return await command.RunAsync(parsed, console, cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await console.Error.WriteAsync($"tsnet {command.Spec.Name}: {e.Message}\n\n{command.Spec.HelpText}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Commands handle the failures they expect; anything else is still a runtime failure (exit 1), reported
            // as such rather than as a crash with the runtime's exit code.
            await console.Error.WriteLineAsync($"tsnet {command.Spec.Name}: unexpected error: {e}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }
}
