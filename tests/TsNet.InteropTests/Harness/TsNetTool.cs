namespace TsNet.InteropTests.Harness;

/// <summary>
/// The built <c>tsnet</c> tool for child-process tests: <c>dotnet src/TsNet.Tool/bin/CONFIG/net10.0/TsNet.Tool.dll</c>,
/// CONFIG matching this test build, located from the repository root (the directory holding TsNet.sln above the
/// test's output directory). The test project references the tool project, so building the tests builds it.
/// </summary>
public static class TsNetTool
{
    /// <summary>The <c>dotnet</c> host running this test (falls back to <c>dotnet</c> on the PATH).</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Full path of the tool's dll.</summary>
    /// <exception cref="FileNotFoundException">The tool is not built in this configuration.</exception>
    public static string DllPath => TsNet.TestSupport.RepositoryPaths.ToolDll;

    /// <summary>Starts <c>tsnet ARGS</c> as a long-running child (output lines captured, stderr prefixed with <c>!</c>).</summary>
    public static ChildProcess Start(ProcessRunner runner, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(runner);
        return runner.Start(DotnetHost, [DllPath, .. args], logPrefix: "tsnet");
    }
}
