namespace TsNet.Tests;

/// <summary>
/// Process-wide allocation per operation, for code whose work spans threads (a writer task, a server, the loop), so a
/// thread's own counter would miss it. The process counter also sees what runs beside the test — a timer or a task
/// left over from an earlier test, tiered compilation — so the figure is the least of a few windows: an object
/// allocated per operation shows in every window, background noise only in some.
/// </summary>
internal static class ProcessAllocations
{
    /// <summary>Runs <paramref name="operations"/> operations per window and returns the least bytes per operation of <paramref name="windows"/> windows, and all of them.</summary>
    public static (double Least, double[] Windows) PerOperation(int windows, int operations, Action<int> run)
    {
        var figures = new double[windows];
        for (var window = 0; window < windows; window++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            run(operations);
            figures[window] = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / operations;
        }

        return (figures.Min(), figures);
    }

    /// <summary>The same, for work that awaits.</summary>
    public static async Task<(double Least, double[] Windows)> PerOperationAsync(int windows, Func<Task<long>> run)
    {
        var figures = new double[windows];
        for (var window = 0; window < windows; window++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var operations = await run();
            figures[window] = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / operations;
        }

        return (figures.Min(), figures);
    }

    /// <summary>The windows' figures for the test output.</summary>
    public static string Describe(double[] windows) => string.Join(", ", windows.Select(figure => figure.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)));
}
