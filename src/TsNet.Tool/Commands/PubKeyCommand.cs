using TsNet.Tool.Cli;

namespace TsNet.Tool.Commands;

/// <summary><c>tsnet pubkey</c>: like <c>wg pubkey</c>, reads a private key on stdin and prints its public key.</summary>
internal sealed class PubKeyCommand : ICommand
{
    // A key is 44 characters; wg also tolerates surrounding whitespace. Reading more than this is never needed and
    // keeps "tsnet pubkey < bigfile" from reading the whole file.
    private const int MaxInputChars = 1024;

    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new("pubkey", "< private.key", "read a private key on stdin, print its public key (like wg pubkey)", []);

    /// <inheritdoc/>
    public async Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var buffer = new char[MaxInputChars + 1];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await console.In.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        if (length > MaxInputChars || !WireGuardKey.TryParse(new string(buffer, 0, length), out var key))
        {
            await console.Error.WriteLineAsync("tsnet pubkey: the input is not a private key (32 bytes in base64, 44 characters)").ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        await console.Out.WriteLineAsync(key.PublicKey.ToString()).ConfigureAwait(false);
        await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
