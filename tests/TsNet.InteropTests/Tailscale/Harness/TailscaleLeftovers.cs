using System.Diagnostics;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Removes what an earlier, crashed run of this harness left: processes of the four Tailscale programs whose working
/// directory is a <see cref="TailscaleWorkDir"/> (<c>$TMPDIR/tsnet-ts-&lt;owner pid&gt;-&lt;n&gt;</c>) and those
/// directories. Only owners that <see cref="LeftoverCleaner.IsStaleOwner"/> selects (gone, or no longer a test host)
/// are touched, so the processes of a run still going in another worktree are left alone. Runs once per test process,
/// before its first work directory exists.
/// </summary>
public static class TailscaleLeftovers
{
    private static readonly object Gate = new();
    private static Task<int>? _once;

    /// <summary>Cleans once per process; later calls return the first call's task (the number of things removed).</summary>
    public static Task<int> CleanOnceAsync(TestLog log)
    {
        lock (Gate)
        {
            return _once ??= Task.Run(() => CleanAsync(log, LeftoverCleaner.IsStaleOwner));
        }
    }

    /// <summary>
    /// Stops (SIGTERM, then SIGKILL, waiting on the pids) every harness-started Tailscale process whose owner is
    /// selected, then deletes the owners' work directories. Returns how many things were removed; never throws.
    /// </summary>
    public static async Task<int> CleanAsync(TestLog log, Func<int, bool> selectOwner)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(selectOwner);
        var processes = FindProcesses().Where(found => selectOwner(found.OwnerPid)).ToList();
        foreach (var (pid, program, directory, _) in processes)
        {
            log.Write($"tailscale cleanup: SIGTERM leftover {program} pid {pid} (in {directory})");
            NativeMethods.Terminate(pid);
        }

        if (processes.Count > 0 && !await WaitGoneAsync(processes.Select(p => p.Pid), TimeSpan.FromSeconds(3)))
        {
            foreach (var (pid, program, _, _) in processes.Where(p => LeftoverCleaner.IsAlive(p.Pid)))
            {
                log.Write($"tailscale cleanup: SIGKILL leftover {program} pid {pid}");
                NativeMethods.ForceKill(pid);
            }

            if (!await WaitGoneAsync(processes.Select(p => p.Pid), TimeSpan.FromSeconds(3)))
            {
                log.Write("tailscale cleanup: some processes are still alive after SIGKILL");
            }
        }

        var removed = processes.Count;
        foreach (var path in SafeEnumerateDirectories(Path.GetTempPath()))
        {
            if (TailscaleWorkDir.TryParseOwner(Path.GetFileName(path), out var owner) && selectOwner(owner))
            {
                log.Write($"tailscale cleanup: removing work directory {path}");
                TempDirectory.TryDelete(path);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Running Tailscale programs whose working directory is a harness work directory.</summary>
    public static IReadOnlyList<(int Pid, string Program, string Directory, int OwnerPid)> FindProcesses()
    {
        var found = new List<(int, string, string, int)>();
        foreach (var directory in SafeEnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            var program = ReadProgramName(pid);
            if (program is null || !TailscaleBinaries.Names.Contains(program))
            {
                continue;
            }

            var cwd = ReadWorkingDirectory(pid);
            if (cwd is null)
            {
                continue;
            }

            // The work directory itself or a node's subdirectory; "(deleted)" follows a removed one.
            foreach (var segment in cwd.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                if (TailscaleWorkDir.TryParseOwner(segment.Replace(" (deleted)", string.Empty, StringComparison.Ordinal), out var owner))
                {
                    if (LeftoverCleaner.IsAlive(pid))
                    {
                        found.Add((pid, program, cwd, owner));
                    }

                    break;
                }
            }
        }

        return found;
    }

    private static string? ReadProgramName(int pid)
    {
        try
        {
            var argv0 = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', 2)[0];
            return argv0.Length == 0 ? null : Path.GetFileName(argv0);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadWorkingDirectory(int pid)
    {
        try
        {
            return new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<bool> WaitGoneAsync(IEnumerable<int> pids, TimeSpan limit)
    {
        var list = pids.ToList();
        var clock = Stopwatch.StartNew();
        while (list.Any(LeftoverCleaner.IsAlive))
        {
            if (clock.Elapsed >= limit)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private static IEnumerable<string> SafeEnumerateDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (IOException)
        {
            return Array.Empty<string>();
        }
        catch (UnauthorizedAccessException)
        {
            return Array.Empty<string>();
        }
    }
}
