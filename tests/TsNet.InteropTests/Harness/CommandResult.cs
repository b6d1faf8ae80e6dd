using System.Text;

namespace TsNet.InteropTests.Harness;

/// <summary>The outcome of one finished (or timed-out) command.</summary>
public sealed record CommandResult(
    string FileName,
    IReadOnlyList<string> Arguments,
    int ExitCode,
    string StandardOutput,
    string StandardError,
    TimeSpan Elapsed,
    bool TimedOut)
{
    /// <summary>Exit code 0 and no timeout.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>The command line as a shell would show it.</summary>
    public string CommandLine => ProcessRunner.FormatCommandLine(FileName, Arguments);

    /// <summary>Throws with the command, exit code and both outputs unless the command succeeded.</summary>
    public CommandResult EnsureSuccess()
    {
        if (!Succeeded)
        {
            throw new InvalidOperationException("Command failed: " + this);
        }

        return this;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CommandLine).Append(" -> ");
        text.Append(TimedOut ? $"TIMED OUT after {Elapsed.TotalSeconds:0.0} s" : $"exit {ExitCode} in {Elapsed.TotalSeconds:0.000} s");
        if (StandardOutput.Length > 0)
        {
            text.Append("\n  stdout: ").Append(ProcessRunner.Truncate(StandardOutput.TrimEnd()).Replace("\n", "\n          ", StringComparison.Ordinal));
        }

        if (StandardError.Length > 0)
        {
            text.Append("\n  stderr: ").Append(ProcessRunner.Truncate(StandardError.TrimEnd()).Replace("\n", "\n          ", StringComparison.Ordinal));
        }

        return text.ToString();
    }
}
