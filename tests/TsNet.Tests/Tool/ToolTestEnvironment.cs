using System.Runtime.CompilerServices;

namespace TsNet.Tests.Tool;

/// <summary>
/// Points <c>$XDG_RUNTIME_DIR</c> of this test process (and the <c>tsnet</c> children it starts) at a directory of its
/// own, so that a <c>tsnet up</c> run without <c>--socket</c> puts its default local API socket there, never in the
/// machine's <c>/run/tsnet</c>. Tests that care about the socket pass their own path or environment.
/// </summary>
internal static class ToolTestEnvironment
{
#pragma warning disable CA2255 // A test assembly is the one place where a process-wide default must be set before any test runs.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void UseOwnRuntimeDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("tsnet-tests-run-").FullName;
        Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A socket of a node still stopping: the temp directory is cleaned up by the system.
            }
        };
    }
}
