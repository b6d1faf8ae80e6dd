using System.Runtime.CompilerServices;
using TsNet.Benchmarks.Fuzz;
using Xunit.Abstractions;

namespace TsNet.Tests.Fuzz;

/// <summary>
/// A bounded run of every fuzz target (2 000 inputs, <c>TSNET_TEST_SCALE</c> times more): no findings. The full
/// campaign (a million inputs per target) is the benchmarks' <c>fuzz</c> command.
/// </summary>
public sealed class FuzzSmokeTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var (name, _) in FuzzTargets.All)
            {
                data.Add(name);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Target_RunsTwoThousandInputs_WithoutFindings(string target)
    {
        var log = new StringWriter();
        var runner = new FuzzRunner(target, FuzzTargets.Find(target)!, seed: 20261207, TimeSpan.FromSeconds(60), maxFindings: 5, log);

        var result = runner.Run(start: 0, count: 2000 * TestScale.Factor, progressEvery: TimeSpan.FromMinutes(10));

        output.WriteLine(log.ToString());
        output.WriteLine($"{target}: {result.Inputs} inputs in {result.Elapsed.TotalSeconds:F1} s; {result.Description}");
        result.Findings.Should().BeEmpty(log.ToString());
        result.Inputs.Should().Be(2000 * TestScale.Factor);
    }

    [Fact]
    public void Command_ResumesWithStart_AndReportsPerTarget()
    {
        var log = new StringWriter();

        var exitCode = FuzzCommand.Run(["--target", "ip", "--count", "300", "--seed", "3", "--start", "1000"], log);

        exitCode.Should().Be(0, log.ToString());
        log.ToString().Should().Contain("target=ip inputs=300 ").And.Contain("findings=0");
        FuzzCommand.Run(["--target", "nope"], new StringWriter()).Should().Be(2);
        FuzzCommand.Run(["--count"], new StringWriter()).Should().Be(2);
    }

    [Fact]
    public void Runner_ReportsAnEscapingException_AsAFinding_WithSeedIndexAndHex()
    {
        var log = new StringWriter();
        var runner = new FuzzRunner("throws", () => new ThrowingTarget(), seed: 4, TimeSpan.FromSeconds(60), maxFindings: 3, log);

        var result = runner.Run(start: 10, count: 100, progressEvery: TimeSpan.FromMinutes(10));

        result.Findings.Should().HaveCount(3, "the run stops at the finding bound");
        result.StoppedEarly.Should().BeTrue();
        var first = result.Findings[0];
        first.Index.Should().BeGreaterThanOrEqualTo(10);
        FuzzMutator.Generate(4, first.Index, ThrowingTarget.Seeds, 100).Should().Equal(first.Input, "the seed and index reproduce the input");
        log.ToString().Should().Contain($"FINDING target=throws seed=4 index={first.Index} exception=System.IndexOutOfRangeException").And.Contain("input=" + Convert.ToHexString(first.Input));
    }

    [Fact]
    public void Runner_ReportsAHang_AndCarriesOnWithTheNextInput()
    {
        var log = new StringWriter();
        using var release = new ManualResetEventSlim();
        var executions = new StrongBox<int>();
        var runner = new FuzzRunner("hangs", () => new HangingTarget(release, executions), seed: 1, TimeSpan.FromMilliseconds(300), maxFindings: 5, log);

        var result = runner.Run(start: 0, count: 50, progressEvery: TimeSpan.FromMinutes(10));
        release.Set();

        result.Findings.Should().ContainSingle().Which.HungFor.Should().NotBeNull();
        result.Findings[0].Index.Should().Be(HangingTarget.HangAt);
        result.Inputs.Should().Be(49, "every input but the hung one ran, those after it on a fresh target");
        log.ToString().Should().Contain($"FINDING target=hangs seed=1 index={HangingTarget.HangAt} exception=hang");
    }

    private sealed class ThrowingTarget : IFuzzTarget
    {
        public static readonly byte[][] Seeds = [[1, 2, 3, 4, 5, 6, 7, 8]];

        public IReadOnlyList<byte[]> Corpus => Seeds;

        public int MaxInputLength => 100;

        public void Execute(byte[] input)
        {
            if (input.Length > 8)
            {
                throw new IndexOutOfRangeException("longer than the seed");
            }
        }
    }

    private sealed class HangingTarget(ManualResetEventSlim release, StrongBox<int> executions) : IFuzzTarget
    {
        public const int HangAt = 17;

        public IReadOnlyList<byte[]> Corpus => [[0]];

        public int MaxInputLength => 10;

        public void Execute(byte[] input)
        {
            // Counted across instances: only the 18th input of the run (index 17) hangs, not the fresh instance's.
            if (Interlocked.Increment(ref executions.Value) == HangAt + 1)
            {
                release.Wait();
            }
        }
    }
}
