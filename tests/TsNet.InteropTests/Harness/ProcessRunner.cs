using System.Diagnostics;
using System.Text;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Runs external commands with a bounded run time, captures their output and logs each command with its
/// result, so a failing test shows exactly what was run and what it printed.
/// </summary>
public sealed class ProcessRunner
{
    /// <summary>Default bound for one command.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const int MaxLoggedChars = 4000;

    /// <summary>Creates a runner logging to <paramref name="log"/>.</summary>
    public ProcessRunner(TestLog log) => Log = log;

    /// <summary>Where commands and results are written.</summary>
    public TestLog Log { get; }

    /// <summary>Runs a command (program resolved like <see cref="InteropEnvironment.ResolveTool"/>) to completion or timeout.</summary>
    /// <param name="fileName">Program name or path.</param>
    /// <param name="arguments">Arguments, passed without a shell.</param>
    /// <param name="timeout">Bound for the run (default 30 s); on expiry the process tree is killed and <see cref="CommandResult.TimedOut"/> is set.</param>
    /// <param name="standardInput">Text written to stdin (then closed); null: stdin is closed at once.</param>
    /// <param name="quiet">Log only when the command fails (for polling loops).</param>
    /// <param name="cancellationToken">Kills the process and throws when cancelled.</param>
    public async Task<CommandResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        TimeSpan? timeout = null,
        string? standardInput = null,
        bool quiet = false,
        CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? DefaultTimeout;
        var path = InteropEnvironment.ResolveTool(fileName) ?? fileName;
        var startInfo = CreateStartInfo(path, arguments);
        startInfo.RedirectStandardInput = true;
        if (!quiet)
        {
            Log.Write("$ " + FormatCommandLine(fileName, arguments));
        }

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            var failed = new CommandResult(fileName, arguments, -1, string.Empty, "could not start: " + e.Message, clock.Elapsed, false);
            Log.Write(failed.ToString());
            return failed;
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program exited without reading its input; its exit code tells the story.
        }

        var timedOut = false;
        using (var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeoutSource.CancelAfter(limit);
            try
            {
                await process.WaitForExitAsync(timeoutSource.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                KillTree(process);
                await WaitBoundedAsync(process.WaitForExitAsync(CancellationToken.None), TimeSpan.FromSeconds(5));
            }
        }

        var output = await ReadBoundedAsync(stdout);
        var error = await ReadBoundedAsync(stderr);
        var exitCode = process.HasExited ? process.ExitCode : -1;
        var result = new CommandResult(fileName, arguments, exitCode, output, error, clock.Elapsed, timedOut);
        if (!quiet || !result.Succeeded)
        {
            Log.Write(result.ToString());
        }

        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }

    /// <summary>Like <see cref="RunAsync"/> but throws unless the command succeeded.</summary>
    public async Task<CommandResult> RunCheckedAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        TimeSpan? timeout = null,
        string? standardInput = null,
        CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(fileName, arguments, timeout, standardInput, false, cancellationToken);
        return result.EnsureSuccess();
    }

    /// <summary>Starts a long-running child process whose output lines are captured (and logged with <paramref name="logPrefix"/>).</summary>
    public ChildProcess Start(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? logPrefix = null)
    {
        var path = InteropEnvironment.ResolveTool(fileName) ?? fileName;
        var startInfo = CreateStartInfo(path, arguments);
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        Log.Write("$ " + FormatCommandLine(fileName, arguments) + " &");
        return ChildProcess.Start(startInfo, Log, logPrefix ?? Path.GetFileName(fileName));
    }

    internal static ProcessStartInfo CreateStartInfo(string path, IReadOnlyList<string> arguments)
    {
        var startInfo = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Parseable tool output (ping statistics, error texts) regardless of the machine's locale.
        startInfo.Environment["LC_ALL"] = "C";
        startInfo.Environment["LANG"] = "C";
        return startInfo;
    }

    internal static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exited between the check and the signal.
        }
    }

    /// <summary>
    /// Sends SIGTERM, waits up to <paramref name="grace"/>, then SIGKILLs the tree and waits up to 5 s more, logging
    /// each step as <paramref name="name"/>. Returns true when the process is gone (reaped).
    /// </summary>
    internal static async Task<bool> TerminateThenKillAsync(Process process, TimeSpan grace, TestLog log, string name)
    {
        var id = process.Id;
        NativeMethods.Terminate(id);
        if (await WaitBoundedAsync(process.WaitForExitAsync(), grace))
        {
            log.Write($"[{name}] pid {id} exited with {process.ExitCode} after SIGTERM");
            return true;
        }

        log.Write($"[{name}] pid {id} ignored SIGTERM for {grace.TotalSeconds:0.#} s; killing");
        KillTree(process);
        var gone = await WaitBoundedAsync(process.WaitForExitAsync(), TimeSpan.FromSeconds(5));
        log.Write(gone ? $"[{name}] pid {id} killed" : $"[{name}] pid {id} still not reaped 5 s after SIGKILL");
        return gone;
    }

    internal static async Task<bool> WaitBoundedAsync(Task task, TimeSpan limit)
    {
        try
        {
            await task.WaitAsync(limit);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static async Task<string> ReadBoundedAsync(Task<string> reader)
    {
        try
        {
            return await reader.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            return "<output not closed within 5 s>";
        }
    }

    /// <summary>Formats a command line with simple shell quoting.</summary>
    public static string FormatCommandLine(string fileName, IEnumerable<string> arguments)
    {
        var text = new StringBuilder(Quote(fileName));
        foreach (var argument in arguments)
        {
            text.Append(' ').Append(Quote(argument));
        }

        return text.ToString();
    }

    internal static string Truncate(string text) =>
        text.Length <= MaxLoggedChars ? text : string.Concat(text.AsSpan(0, MaxLoggedChars), $"... <{text.Length - MaxLoggedChars} more chars>");

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c, StringComparison.Ordinal))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
