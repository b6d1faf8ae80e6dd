using System.Diagnostics;
using System.Globalization;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// The process's resources at one moment: working set, the GC heap (its size as the last GC left it, and the live
/// bytes after a forced full collection), committed GC memory, threads and open file descriptors (Linux /proc).
/// </summary>
internal sealed record ResourceSample(string Label, TimeSpan Elapsed, long WorkingSet, long GcHeapSize, long GcLive, long GcCommitted, int Threads, int PoolThreads, int Handles, int NonLibraryHandles, string HandleKinds)
{
    /// <summary>Measures now (forces a full blocking collection for <see cref="GcLive"/>).</summary>
    public static ResourceSample Take(string label, TimeSpan elapsed)
    {
        var info = GC.GetGCMemoryInfo();
        var live = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        var (handles, kinds) = DescribeHandles();
        return new ResourceSample(label, elapsed, process.WorkingSet64, info.HeapSizeBytes, live, GC.GetGCMemoryInfo().TotalCommittedBytes,
            ThreadCount(process), ThreadPool.ThreadCount, handles.Values.Sum(), handles.Where(h => h.Key != "lib").Sum(h => h.Value), kinds);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"working-set={Mib(WorkingSet)} gc-live={Mib(GcLive)} gc-heap={Mib(GcHeapSize)} gc-committed={Mib(GcCommitted)} threads={Threads} (pool {PoolThreads}) fds={Handles} ({HandleKinds})");

    public static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");

    private static int ThreadCount(Process process)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
            }
        }

        return process.Threads.Count;
    }

    /// <summary>
    /// Open descriptors by kind (socket, pipe, anon_inode:[eventfd], lib = a loaded .dll or .so the runtime keeps open,
    /// file), so a leak shows what leaks; assemblies loaded on first use are not one.
    /// </summary>
    private static (Dictionary<string, int> Counts, string Text) DescribeHandles()
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        if (Directory.Exists("/proc/self/fd"))
        {
            foreach (var entry in Directory.GetFileSystemEntries("/proc/self/fd"))
            {
                string kind;
                try
                {
                    var target = new FileInfo(entry).LinkTarget ?? "?";
                    kind = target.StartsWith("socket:", StringComparison.Ordinal) ? "socket"
                        : target.StartsWith("pipe:", StringComparison.Ordinal) ? "pipe"
                        : target.StartsWith("anon_inode:", StringComparison.Ordinal) ? target["anon_inode:".Length..]
                        : target.EndsWith(".dll", StringComparison.Ordinal) || target.Contains(".so", StringComparison.Ordinal) ? "lib"
                        : "file";
                }
                catch (IOException)
                {
                    continue; // closed while we looked
                }

                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
        }

        return (new Dictionary<string, int>(kinds, StringComparer.Ordinal), string.Join(' ', kinds.Select(k => k.Key + "=" + k.Value)));
    }
}
