namespace TsNet.InteropTests.Harness;

/// <summary>
/// A directory for one test's data files, <c>$TMPDIR/tsnitPPPPPNN</c> (a harness resource name, so a crashed run's
/// directory is removed by <see cref="LeftoverCleaner"/>). Dispose deletes it with everything inside; never throws.
/// Namespaces share the host's file system, so commands run with <c>ip netns exec</c> read and write here too.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    private int _disposed;

    /// <summary>Creates a new empty directory.</summary>
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), ResourceNames.Next());
        Directory.CreateDirectory(Path);
    }

    /// <summary>Full path of the directory.</summary>
    public string Path { get; }

    /// <summary>Full path of <paramref name="name"/> inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            TryDelete(Path);
        }
    }

    /// <summary>Deletes a directory tree; false when it could not be removed.</summary>
    internal static bool TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
