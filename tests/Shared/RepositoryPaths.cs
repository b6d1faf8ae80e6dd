namespace TsNet.TestSupport;

/// <summary>
/// Where things are in the repository, for tests that run its built tools and samples as child processes: the root is
/// the directory holding TsNet.sln above the test's output directory; builds are looked up in the configuration of
/// the running test build. Linked into every test project that needs it (one copy of the logic).
/// </summary>
internal static class RepositoryPaths
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>The repository root.</summary>
    /// <exception cref="InvalidOperationException">No TsNet.sln above the test's output directory.</exception>
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "TsNet.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"TsNet.sln not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The built <c>tsnet</c> tool (<c>src/TsNet.Tool/bin/CONFIG/net10.0/TsNet.Tool.dll</c>).</summary>
    /// <exception cref="FileNotFoundException">The tool is not built in this configuration.</exception>
    public static string ToolDll
    {
        get
        {
            var dll = Path.Combine(Root, "src", "TsNet.Tool", "bin", Configuration, "net10.0", "TsNet.Tool.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"the tsnet tool is not built ({Configuration}): {dll}", dll);
        }
    }
}
