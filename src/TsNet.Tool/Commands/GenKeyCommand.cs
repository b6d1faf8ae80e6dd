using TsNet.Tool.Cli;

namespace TsNet.Tool.Commands;

/// <summary><c>tsnet genkey</c>: like <c>wg genkey</c>, prints a new private key in wg's base64 form.</summary>
internal sealed class GenKeyCommand : ICommand
{
    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new("genkey", string.Empty, "print a new private key (like wg genkey)", []);

    /// <inheritdoc/>
    public async Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        await console.Out.WriteLineAsync(WireGuardKey.Generate().ToString()).ConfigureAwait(false);
        await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
