using System.Diagnostics;

namespace TsNet.Tests.Tool;

/// <summary>
/// Runs the built tool as a child process (<c>dotnet src/TsNet.Tool/bin/CONFIG/net10.0/TsNet.Tool.dll ARGS</c>, the
/// configuration matching this test build), bounded in time; the tree is killed on timeout.
/// </summary>
internal static class ToolProcess
{
    /// <summary>The tool's dll (see <see cref="TsNet.TestSupport.RepositoryPaths.ToolDll"/>).</summary>
    public static string DllPath => TsNet.TestSupport.RepositoryPaths.ToolDll;

    /// <summary>Runs the tool with <paramref name="args"/>; returns exit code and output, or throws when it outlives <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tsnet {string.Join(' ', args)} still ran after {timeout.TotalSeconds:0} s; killed. stdout:\n{await stdout}\nstderr:\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
