using System.Diagnostics;
using System.Text;

namespace TsNet.Tests.Packaging;

/// <summary>Runs the <c>dotnet</c> CLI as a child process, bounded by a timeout; the whole process tree is killed on expiry.</summary>
internal static class DotnetCommand
{
    /// <summary>The result of one run: exit code and the interleaved stdout/stderr text.</summary>
    internal sealed record Result(int ExitCode, string StandardOutput, string Output);

    /// <summary>The host that runs this test (the SDK's <c>dotnet</c>), so the child uses the same SDK.</summary>
    private static string DotnetPath
    {
        get
        {
            var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
            {
                return hostPath;
            }

            var processPath = Environment.ProcessPath;
            return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
        }
    }

    public static async Task<Result> RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(DotnetPath)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The test host inherits MSBuild state from `dotnet test` (SDK paths, node handshakes); a nested build
        // must start from a clean slate, and must leave no build node or compiler server behind.
        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        startInfo.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        var standardOutput = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
                standardOutput.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within {timeout}; killed.\n{Tail(output)}");
        }

        // WaitForExitAsync returns once the redirected streams reached EOF, so the text is complete here.
        lock (output)
        {
            return new Result(process.ExitCode, standardOutput.ToString(), output.ToString());
        }
    }

    /// <summary>The end of a build log: where the error is.</summary>
    private static string Tail(StringBuilder output)
    {
        lock (output)
        {
            const int MaxChars = 8000;
            return output.Length <= MaxChars ? output.ToString() : output.ToString(output.Length - MaxChars, MaxChars);
        }
    }

    /// <summary>Formats a failed run for an assertion message.</summary>
    public static string Describe(this Result result)
    {
        const int MaxChars = 8000;
        var text = result.Output.Length <= MaxChars ? result.Output : result.Output[^MaxChars..];
        return $"exit code {result.ExitCode}\n{text}";
    }
}
