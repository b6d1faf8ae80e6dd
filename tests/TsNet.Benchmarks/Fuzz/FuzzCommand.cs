using System.Globalization;

namespace TsNet.Benchmarks.Fuzz;

/// <summary>
/// <c>fuzz [--target NAME|all] [--count N] [--seed S] [--start I] [--hang-seconds T] [--max-findings M]</c>: runs
/// seeded inputs through each target in turn and prints one line per target (inputs, seconds, inputs/s, findings)
/// and a <c>FINDING</c> line per finding. Input i of a target is a function of (seed, i), so <c>--start</c> resumes a
/// run and a finding's seed and index reproduce it. Stateful targets (wireguard, relay, disco, stun, netstack) carry
/// their state from input to input; a resumed run sends the same inputs into a fresh state, and the hex of a finding
/// is what a unit test replays. Exit code 1 when anything was found, 2 on bad arguments.
/// </summary>
internal static class FuzzCommand
{
    private const string Usage = "usage: fuzz [--target NAME|all] [--count N (1000000)] [--seed S (1)] [--start I (0)] [--hang-seconds T (10)] [--max-findings M (20)]";

    /// <summary>Runs the command; see the type's summary.</summary>
    public static int Run(string[] args) => Run(args, Console.Out);

    /// <summary>Runs the command writing to <paramref name="output"/>.</summary>
    public static int Run(string[] args, TextWriter output)
    {
        var target = "all";
        long count = 1_000_000;
        ulong seed = 1;
        long start = 0;
        var hangSeconds = 10.0;
        var maxFindings = 20;
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--target": target = value; break;
                    case "--count": count = long.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--seed": seed = ulong.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--start": start = long.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--hang-seconds": hangSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--max-findings": maxFindings = int.Parse(value, CultureInfo.InvariantCulture); break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }

                i++;
            }

            if (count < 0 || start < 0 || hangSeconds <= 0 || maxFindings <= 0)
            {
                throw new ArgumentException("--count and --start are at least 0, --hang-seconds and --max-findings above 0");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            output.WriteLine(ex.Message);
            output.WriteLine(Usage);
            return 2;
        }

        List<(string Name, Func<IFuzzTarget> Create)> selected;
        if (target == "all")
        {
            selected = [.. FuzzTargets.All];
        }
        else if (FuzzTargets.Find(target) is { } create)
        {
            selected = [(target, create)];
        }
        else
        {
            output.WriteLine($"unknown target {target}; targets: all, {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
            return 2;
        }

        output.WriteLine($"fuzz seed={seed} start={start} count={count} targets={string.Join(",", selected.Select(t => t.Name))}");
        var findings = 0;
        foreach (var (name, create) in selected)
        {
            var runner = new FuzzRunner(name, create, seed, TimeSpan.FromSeconds(hangSeconds), maxFindings, output);
            var result = runner.Run(start, count, TimeSpan.FromSeconds(60));
            findings += result.Findings.Count;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"target={name} inputs={result.Inputs} seconds={result.Elapsed.TotalSeconds:F1} inputs/s={result.InputsPerSecond:F0} findings={result.Findings.Count}{(result.StoppedEarly ? " (stopped early)" : "")}"));
            if (result.Description.Length > 0)
            {
                output.WriteLine($"  {name}: {result.Description}");
            }

            output.Flush();
        }

        output.WriteLine($"fuzz done: findings={findings}");
        return findings > 0 ? 1 : 0;
    }
}
