using System.Diagnostics;
using System.Text;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// A long-running Tailscale program started by the harness: its working directory is the test's
/// <see cref="TailscaleWorkDir"/> (the marker <see cref="TailscaleLeftovers"/> uses), stdout and stderr go line by line
/// into a log file there (stderr lines prefixed with <c>!</c>, not into the test output: <c>tailscaled</c> is chatty),
/// and the last lines are kept in memory (bounded) for <see cref="WaitForLineAsync"/>. <see cref="StopAsync"/> sends
/// SIGTERM, then SIGKILL, and waits on the pid.
/// </summary>
public sealed class TailscaleChild : IAsyncDisposable
{
    private const int MaxLines = 2000;

    private readonly Process _process;
    private readonly TestLog _log;
    private readonly StreamWriter _file;
    private readonly Queue<string> _lines = new();
    private readonly object _gate = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _lineCount;
    private int _stopped;

    private TailscaleChild(Process process, TestLog log, StreamWriter file, string name, string logPath)
    {
        _process = process;
        _log = log;
        _file = file;
        Name = name;
        LogPath = logPath;
    }

    /// <summary>Short name used in the test log (e.g. <c>control</c>, <c>ts1</c>).</summary>
    public string Name { get; }

    /// <summary>The file receiving the program's output.</summary>
    public string LogPath { get; }

    /// <summary>The pid.</summary>
    public int Id { get; private set; }

    /// <summary>True once the process has exited.</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>Exit code, or null while running.</summary>
    public int? ExitCode => HasExited ? _process.ExitCode : null;

    /// <summary>
    /// Starts <paramref name="program"/> (a path) with <paramref name="arguments"/> in <paramref name="workingDirectory"/>,
    /// its output appended to <paramref name="logPath"/>.
    /// </summary>
    public static TailscaleChild Start(
        string program,
        IReadOnlyList<string> arguments,
        string workingDirectory,
        string logPath,
        TestLog log,
        string name,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        var startInfo = ProcessRunner.CreateStartInfo(program, arguments);
        startInfo.WorkingDirectory = workingDirectory;
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        var file = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new TailscaleChild(process, log, file, name, logPath);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, false);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, true);
        process.Exited += (_, _) => child.Pulse();
        var environmentText = environment is null ? string.Empty : string.Join(' ', environment.Select(pair => pair.Key + "=" + pair.Value)) + " ";
        log.Write($"[{name}] $ (cd {workingDirectory}; {environmentText}{ProcessRunner.FormatCommandLine(program, arguments)} >{logPath} 2>&1 &)");
        try
        {
            process.Start();
        }
        catch
        {
            file.Dispose();
            process.Dispose();
            throw;
        }

        child.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log.Write($"[{name}] started pid {child.Id}");
        return child;
    }

    /// <summary>True when any line kept so far (the last 2000) contains <paramref name="text"/>.</summary>
    public bool HasLogged(string text)
    {
        lock (_gate)
        {
            return _lines.Any(line => line.Contains(text, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// Waits (bounded) until an output line matches <paramref name="predicate"/> and returns it (without the
    /// <c>!</c> of stderr lines); null on timeout or when the process exited first.
    /// </summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var clock = Stopwatch.StartNew();
        long scanned = 0;
        while (true)
        {
            Task changed;
            var exited = HasExited;
            lock (_gate)
            {
                // Lines dropped from the bounded queue before this call are not scanned again.
                var first = _lineCount - _lines.Count;
                var index = first;
                foreach (var line in _lines)
                {
                    if (index++ < scanned)
                    {
                        continue;
                    }

                    var text = line.StartsWith('!') ? line[1..] : line;
                    if (predicate(text))
                    {
                        return text;
                    }
                }

                scanned = _lineCount;
                changed = _changed.Task;
            }

            var remaining = timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero || exited)
            {
                return null;
            }

            try
            {
                // Wake at least every 250 ms so an exit between the check and the wait is noticed.
                await changed.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(250, remaining.TotalMilliseconds)), cancellationToken);
            }
            catch (TimeoutException)
            {
                // Re-check.
            }
        }
    }

    /// <summary>Waits (bounded) for the process to exit by itself; true when it did.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => ProcessRunner.WaitBoundedAsync(_process.WaitForExitAsync(), timeout);

    /// <summary>
    /// SIGTERM, up to <paramref name="grace"/> for the process to exit, then SIGKILL and up to 5 s more. Returns true
    /// when it is gone. Idempotent; after an exit it waits (bounded) until all output is in the log file.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0 || HasExited)
        {
            // Exited (or being stopped): WaitForExitAsync also waits for the last output lines to reach the log file.
            await ProcessRunner.WaitBoundedAsync(_process.WaitForExitAsync(), TimeSpan.FromSeconds(5));
            return HasExited;
        }

        return await ProcessRunner.TerminateThenKillAsync(_process, grace, _log, Name);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(3));
        lock (_gate)
        {
            _file.Dispose();
        }

        _process.Dispose();
    }

    private void OnLine(string? line, bool isError)
    {
        if (line is null)
        {
            Pulse();
            return;
        }

        var text = isError ? "!" + line : line;
        lock (_gate)
        {
            _lines.Enqueue(text);
            _lineCount++;
            if (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
            }

            try
            {
                _file.WriteLine(text);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after dispose is dropped.
            }
        }

        Pulse();
    }

    private void Pulse()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = NewSignal();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
