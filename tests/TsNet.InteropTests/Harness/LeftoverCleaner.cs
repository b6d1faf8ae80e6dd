using System.Diagnostics;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Removes what interop runs leave behind: <c>wireguard-go</c> processes whose TUN carries
/// <see cref="ResourceNames.Prefix"/>, namespaces and root-namespace links with that prefix, stale
/// <c>/var/run/wireguard/&lt;tun&gt;.sock</c> files, <see cref="NftLoss"/> tables in the root namespace, processes left
/// inside those namespaces (socat, curl) and <see cref="TempDirectory"/> data directories. Only resources whose owner (the pid in the name) is selected are
/// touched, so a concurrent run in another worktree is left alone.
/// </summary>
public static class LeftoverCleaner
{
    /// <summary>Where wireguard-go puts its control sockets.</summary>
    public const string SocketDirectory = "/var/run/wireguard";

    /// <summary>
    /// Owner test: the owning test process is gone (or its pid now belongs to something that is not a test host),
    /// or it is this process (at the start of a run nothing of ours exists yet, so a match is from an earlier
    /// process that had the same pid).
    /// </summary>
    public static bool IsStaleOwner(int ownerPid) => ownerPid == Environment.ProcessId || !IsLiveTestProcess(ownerPid);

    /// <summary>Owner test for the end of a run: only this process's resources.</summary>
    public static bool IsOwnOwner(int ownerPid) => ownerPid == Environment.ProcessId;

    /// <summary>Removes every matching leftover; returns how many things were removed. Never throws for a single failure.</summary>
    public static async Task<int> CleanAsync(ProcessRunner runner, Func<int, bool> selectOwner)
    {
        var removed = 0;

        // 1. wireguard-go processes (their TUN disappears with them).
        var processes = FindWireGuardGoProcesses().Where(p => selectOwner(p.OwnerPid)).ToList();
        foreach (var (pid, tun, _) in processes)
        {
            runner.Log.Write($"cleanup: SIGTERM leftover wireguard-go pid {pid} ({tun})");
            NativeMethods.Terminate(pid);
        }

        if (processes.Count > 0 && !await WaitGoneAsync(processes.Select(p => p.Pid), TimeSpan.FromSeconds(3)))
        {
            foreach (var (pid, tun, _) in processes.Where(p => IsAlive(p.Pid)))
            {
                runner.Log.Write($"cleanup: SIGKILL leftover wireguard-go pid {pid} ({tun})");
                NativeMethods.ForceKill(pid);
            }

            if (!await WaitGoneAsync(processes.Select(p => p.Pid), TimeSpan.FromSeconds(3)))
            {
                runner.Log.Write("cleanup: some wireguard-go processes are still alive after SIGKILL");
            }
        }

        removed += processes.Count;

        // 2. Namespaces.
        var namespaces = await runner.RunAsync("ip", new[] { "netns", "list" }, TimeSpan.FromSeconds(10), quiet: true);
        foreach (var line in namespaces.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = line.Split(' ')[0];
            if (ResourceNames.TryParseOwner(name, out var owner) && selectOwner(owner))
            {
                await KillNamespaceProcessesAsync(runner, name);
                runner.Log.Write($"cleanup: deleting namespace {name}");
                await runner.RunAsync("ip", new[] { "netns", "del", name }, TimeSpan.FromSeconds(10));
                removed++;
            }
        }

        // 3. Links left in the root namespace (a TUN whose process died before it was moved vanishes by itself).
        var links = await runner.RunAsync("ip", new[] { "-o", "link", "show" }, TimeSpan.FromSeconds(10), quiet: true);
        foreach (var line in links.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(':', 3);
            if (fields.Length < 2)
            {
                continue;
            }

            var name = fields[1].Trim().Split('@')[0];
            if (ResourceNames.TryParseOwner(name, out var owner) && selectOwner(owner))
            {
                runner.Log.Write($"cleanup: deleting link {name}");
                await runner.RunAsync("ip", new[] { "link", "del", name }, TimeSpan.FromSeconds(10));
                removed++;
            }
        }

        // 4. Control sockets.
        if (Directory.Exists(SocketDirectory))
        {
            foreach (var path in Directory.EnumerateFiles(SocketDirectory, ResourceNames.Prefix + "*.sock"))
            {
                var name = Path.GetFileNameWithoutExtension(path);
                if (ResourceNames.TryParseOwner(name, out var owner) && selectOwner(owner))
                {
                    runner.Log.Write($"cleanup: removing stale socket {path}");
                    TryDelete(path);
                    removed++;
                }
            }
        }

        // 5. nft loss tables in the root namespace.
        removed += await NftLoss.CleanRootTablesAsync(runner, selectOwner);

        // 6. Data directories (TempDirectory).
        foreach (var path in SafeEnumerateDirectories(Path.GetTempPath()))
        {
            if (ResourceNames.TryParseOwner(Path.GetFileName(path), out var owner) && selectOwner(owner))
            {
                runner.Log.Write($"cleanup: removing data directory {path}");
                TempDirectory.TryDelete(path);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// SIGKILLs every process still running inside namespace <paramref name="netns"/> (socat, curl, ping the tests
    /// started there) and waits up to 3 s for them to go, so deleting the namespace really frees it. Returns how many
    /// there were; never throws.
    /// </summary>
    public static async Task<int> KillNamespaceProcessesAsync(ProcessRunner runner, string netns)
    {
        ArgumentNullException.ThrowIfNull(runner);
        var listing = await runner.RunAsync("ip", new[] { "netns", "pids", netns }, TimeSpan.FromSeconds(10), quiet: true);
        var pids = listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(text => int.TryParse(text, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && pid != Environment.ProcessId)
            .ToList();
        foreach (var pid in pids)
        {
            runner.Log.Write($"cleanup: SIGKILL pid {pid} ({string.Join(' ', ReadCmdline(pid))}) left in namespace {netns}");
            NativeMethods.ForceKill(pid);
        }

        if (pids.Count > 0 && !await WaitGoneAsync(pids, TimeSpan.FromSeconds(3)))
        {
            runner.Log.Write($"cleanup: processes in namespace {netns} still alive 3 s after SIGKILL");
        }

        return pids.Count;
    }

    /// <summary>Running wireguard-go processes whose interface name is one of ours.</summary>
    public static IReadOnlyList<(int Pid, string Tun, int OwnerPid)> FindWireGuardGoProcesses()
    {
        var found = new List<(int, string, int)>();
        foreach (var directory in SafeEnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            var argv = ReadCmdline(pid);
            if (argv.Length < 2 || Path.GetFileName(argv[0]) != "wireguard-go")
            {
                continue;
            }

            var tun = argv[^1];
            if (ResourceNames.TryParseOwner(tun, out var owner) && IsAlive(pid))
            {
                found.Add((pid, tun, owner));
            }
        }

        return found;
    }

    /// <summary>True when the pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat.LastIndexOf(')');
            return afterName < 0 || afterName + 2 >= stat.Length || stat[afterName + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static bool IsLiveTestProcess(int pid)
    {
        if (!IsAlive(pid))
        {
            return false;
        }

        var argv = string.Join(' ', ReadCmdline(pid));
        return argv.Contains("dotnet", StringComparison.OrdinalIgnoreCase) || argv.Contains("testhost", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<bool> WaitGoneAsync(IEnumerable<int> pids, TimeSpan limit)
    {
        var list = pids.ToList();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (!list.Any(IsAlive))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return !list.Any(IsAlive);
    }

    private static string[] ReadCmdline(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
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
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
