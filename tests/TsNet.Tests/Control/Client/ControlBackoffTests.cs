using TsNet.Control.Client;

namespace TsNet.Tests.Control.Client;

public sealed class ControlBackoffTests
{
    [Fact]
    public void Steps_DoubleFromInitial_UpToTheCap()
    {
        var backoff = new ControlBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(1));
        var steps = new List<double>();
        for (var i = 0; i < 8; i++)
        {
            steps.Add(backoff.CurrentStep.TotalSeconds);
            backoff.Next();
        }

        steps.Should().Equal(1, 2, 4, 8, 16, 30, 30, 30);
        backoff.Failures.Should().Be(8);
    }

    [Fact]
    public void EveryDelay_LiesInTheUpperHalfOfItsStep_AndNeverAboveTheCap()
    {
        var backoff = new ControlBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(7));
        for (var i = 0; i < 200; i++)
        {
            var step = backoff.CurrentStep;
            var delay = backoff.Next();
            delay.Should().BeGreaterThanOrEqualTo(step / 2).And.BeLessThanOrEqualTo(step);
            delay.Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Jitter_SpreadsDelaysOfTheSameStep()
    {
        var delays = Enumerable.Range(0, 50).Select(seed =>
        {
            var backoff = new ControlBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(seed));
            backoff.Next();
            backoff.Next();
            return backoff.Next();
        }).ToList();

        delays.Distinct().Count().Should().BeGreaterThan(40, "fifty nodes must not retry in lock step");
        (delays.Max() - delays.Min()).Should().BeGreaterThan(TimeSpan.FromSeconds(1), "the step is 4 s, the spread up to 2 s");
    }

    [Fact]
    public void Reset_AfterAHealthyStream_StartsOverAtTheInitialStep()
    {
        var backoff = new ControlBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(3));
        for (var i = 0; i < 10; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        backoff.CurrentStep.Should().Be(TimeSpan.FromSeconds(1));
        backoff.Next().Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void ManyFailures_DoNotOverflow()
    {
        var backoff = new ControlBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(5));
        for (var i = 0; i < 1000; i++)
        {
            backoff.Next();
        }

        backoff.CurrentStep.Should().Be(TimeSpan.FromSeconds(30));
        backoff.Next().Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(15));
    }
}
