using System.Globalization;
using System.Text.RegularExpressions;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// One test's directory for the Tailscale programs, <c>$TMPDIR/tsnet-ts-&lt;pid&gt;-&lt;n&gt;</c>: their working
/// directory (which marks their processes as this run's, see <see cref="TailscaleLeftovers"/>), state, sockets,
/// certificates and log files. A test calls <see cref="Complete"/> when it passed; disposing without that is a
/// failure: the tail of every log file is written to the test output and the directory is kept (the next run's
/// leftover cleaning removes it). Dispose it after the processes that use it (declare it first).
/// </summary>
public sealed partial class TailscaleWorkDir : IAsyncDisposable
{
    /// <summary>Name prefix of every such directory (the owner pid follows).</summary>
    public const string Prefix = "tsnet-ts-";

    private const int TailLines = 120;

    private static int _counter;

    private readonly TestLog _log;
    private bool _completed;
    private int _disposed;

    private TailscaleWorkDir(string path, TestLog log)
    {
        Path = path;
        _log = log;
    }

    /// <summary>Full path of the directory.</summary>
    public string Path { get; }

    /// <summary>The test's log (commands, process starts, failures).</summary>
    public TestLog Log => _log;

    /// <summary>
    /// Cleans leftovers of earlier crashed runs once per test process (before the first directory of this run
    /// exists), then creates a new empty directory.
    /// </summary>
    public static async Task<TailscaleWorkDir> CreateAsync(TestLog log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        await TailscaleLeftovers.CleanOnceAsync(log).WaitAsync(cancellationToken);
        var name = Prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" +
                   Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture);
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), name);
        Directory.CreateDirectory(path);
        return new TailscaleWorkDir(path, log);
    }

    /// <summary>True when <paramref name="name"/> (a directory name) is such a directory; <paramref name="ownerPid"/> made it.</summary>
    public static bool TryParseOwner(string name, out int ownerPid)
    {
        var match = NamePattern().Match(name);
        ownerPid = match.Success && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        return ownerPid > 0;
    }

    /// <summary>Full path of <paramref name="name"/> inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates (if needed) and returns the subdirectory <paramref name="name"/>.</summary>
    public string Subdirectory(string name)
    {
        var path = File(name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Marks the test as passed: dispose deletes the directory instead of keeping it and its logs.</summary>
    public void Complete() => _completed = true;

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        if (_completed)
        {
            if (!TempDirectory.TryDelete(Path))
            {
                _log.Write($"could not delete {Path}");
            }

            return ValueTask.CompletedTask;
        }

        AttachLogs();
        _log.Write($"test did not complete: kept {Path} (removed by the next run's leftover cleaning)");
        return ValueTask.CompletedTask;
    }

    private void AttachLogs()
    {
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
                // Only the captured output (*.log): tailscaled's TS_LOGS_DIR files (*.txt) repeat it as JSON.
                .Where(file => file.EndsWith(".log", StringComparison.Ordinal))
                .OrderBy(file => file, StringComparer.Ordinal)
                .ToList();
        }
        catch (IOException e)
        {
            _log.Write($"could not list the logs in {Path}: {e.Message}");
            return;
        }

        foreach (var file in files)
        {
            try
            {
                var lines = System.IO.File.ReadAllLines(file);
                var skipped = Math.Max(0, lines.Length - TailLines);
                _log.Write($"==== {file} ({lines.Length} lines{(skipped > 0 ? $", last {TailLines}" : string.Empty)})\n" + string.Join('\n', lines.Skip(skipped)));
            }
            catch (IOException e)
            {
                _log.Write($"==== {file}: {e.Message}");
            }
        }
    }

    [GeneratedRegex("^tsnet-ts-([0-9]+)-[0-9]+$")]
    private static partial Regex NamePattern();
}
