using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace TsNet.Benchmarks;

/// <summary>GB/s (10^9 bytes per second) from a benchmark's <c>Size</c> parameter and its mean time per operation.</summary>
internal sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "GB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Payload bytes processed per second / 10^9 (Size / Mean)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report?.ResultStatistics is null || benchmarkCase.Parameters["Size"] is not int size)
        {
            return "-";
        }

        // Mean is in nanoseconds, so bytes per nanosecond is already GB/s.
        double gigabytesPerSecond = size / report.ResultStatistics.Mean;
        return gigabytesPerSecond.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
    }
}
