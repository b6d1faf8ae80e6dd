using System.Runtime.InteropServices;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID). Unlike wall-clock time it does not stretch when other
/// processes share the cores, so per-operation costs compare across runs on a busy machine. Linux only.
/// </summary>
internal static class ThreadCpuClock
{
    private const int ClockThreadCpuTime = 3;

    /// <summary>CPU seconds this thread has run so far.</summary>
    public static unsafe double Seconds()
    {
        Timespec t;
        if (clock_gettime(ClockThreadCpuTime, &t) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        }

        return t.Seconds + (t.Nanoseconds * 1e-9);
    }

    [DllImport("libc", SetLastError = false)]
    private static extern unsafe int clock_gettime(int clockId, Timespec* time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
