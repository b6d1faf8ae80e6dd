using System.Diagnostics;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// A long-running child process owned by the test (e.g. <c>wireguard-go -f</c>): its stdout/stderr lines are
/// kept (bounded) and logged, and <see cref="StopAsync"/> ends it with SIGTERM, then SIGKILL, waiting on the pid.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int MaxLines = 20_000;

    private readonly Process _process;
    private readonly TestLog _log;
    private readonly string _prefix;
    private readonly List<string> _lines = new();
    private readonly object _gate = new();
    private TaskCompletionSource _changed = NewSignal();
    private int _droppedLines;

    private ChildProcess(Process process, TestLog log, string prefix)
    {
        _process = process;
        _log = log;
        _prefix = prefix;
    }

    /// <summary>The child's pid.</summary>
    public int Id { get; private set; }

    /// <summary>True once the process has exited (and been reaped).</summary>
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

    /// <summary>A snapshot of the output lines so far (stderr lines are prefixed with <c>!</c>).</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return _lines.ToArray();
            }
        }
    }

    internal static ChildProcess Start(ProcessStartInfo startInfo, TestLog log, string prefix)
    {
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(process, log, prefix);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, false);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, true);
        process.Exited += (_, _) => child.Pulse();
        process.Start();
        child.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log.Write($"[{prefix}] started pid {child.Id}");
        return child;
    }

    /// <summary>
    /// Waits (bounded) until an output line matches <paramref name="predicate"/>; returns it, or null on timeout or
    /// when the process exited first.
    /// </summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        var scanned = 0;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                for (; scanned < _lines.Count; scanned++)
                {
                    if (predicate(_lines[scanned]))
                    {
                        return _lines[scanned];
                    }
                }

                changed = _changed.Task;
            }

            var remaining = timeout - deadline.Elapsed;
            if (remaining <= TimeSpan.Zero || HasExited)
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

    /// <summary>Waits (bounded) for the process to exit by itself; returns its exit code, or null on timeout.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }

        return _process.ExitCode;
    }

    /// <summary>True when any output line so far matches.</summary>
    public bool AnyLine(Func<string, bool> predicate)
    {
        lock (_gate)
        {
            return _lines.Any(predicate);
        }
    }

    /// <summary>
    /// Sends SIGTERM, waits up to <paramref name="grace"/>, then SIGKILLs the tree and waits up to 5 s more.
    /// Returns true when the process is gone (reaped).
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (HasExited)
        {
            return true;
        }

        return await ProcessRunner.TerminateThenKillAsync(_process, grace, _log, _prefix);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(3));
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
            if (_lines.Count < MaxLines)
            {
                _lines.Add(text);
            }
            else
            {
                _droppedLines++;
            }
        }

        _log.Write($"[{_prefix}] {text}");
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
