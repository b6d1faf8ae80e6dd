using System.Runtime.InteropServices;

namespace TsNet.InteropTests.Harness;

/// <summary>The few libc calls the harness needs (.NET only offers SIGKILL).</summary>
internal static partial class NativeMethods
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    /// <summary>Sends SIGTERM; false when the process does not exist (or is not ours to signal).</summary>
    public static bool Terminate(int pid) => pid > 0 && Kill(pid, SigTerm) == 0;

    /// <summary>Sends SIGKILL; false when the process does not exist.</summary>
    public static bool ForceKill(int pid) => pid > 0 && Kill(pid, SigKill) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
