namespace TsNet.Benchmarks.Fuzz;

/// <summary>One input that escaped its parser's documented rejection (<see cref="Exception"/> set) or hung.</summary>
internal sealed record FuzzFinding(string Target, ulong Seed, long Index, byte[] Input, Exception? Exception, TimeSpan? HungFor)
{
    /// <summary>The <c>FINDING</c> line: what, where and the input in hex, then the stack trace indented.</summary>
    public string Format()
    {
        var what = Exception is { } e ? $"{e.GetType().FullName}: {OneLine(e.Message)}" : $"hang (still running after {HungFor!.Value.TotalSeconds:F0} s)";
        var line = $"FINDING target={Target} seed={Seed} index={Index} exception={what} input={Convert.ToHexString(Input)}";
        if (Exception?.StackTrace is { } stack)
        {
            line += Environment.NewLine + string.Join(Environment.NewLine, stack.Split('\n').Take(12).Select(l => "    " + l.TrimEnd()));
        }

        return line;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}

/// <summary>What one target's run did.</summary>
internal sealed record FuzzRunResult(string Target, long Inputs, TimeSpan Elapsed, IReadOnlyList<FuzzFinding> Findings, bool StoppedEarly)
{
    /// <summary>Inputs per second over the whole run.</summary>
    public double InputsPerSecond => Elapsed.TotalSeconds > 0 ? Inputs / Elapsed.TotalSeconds : 0;

    /// <summary>The target's own account of the run (<see cref="IFuzzTarget.Describe"/>).</summary>
    public string Description { get; init; } = "";
}
