using TsNet.Tool.RelayApi;

namespace TsNet.Tests.Tool;

/// <summary>Go's <c>time.Duration.String</c> forms, as tailscale's JSON carries lifetimes.</summary>
public sealed class GoDurationTests
{
    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "100ns")]
    [InlineData(15L, "1.5µs")]
    [InlineData(2_500_000L, "250ms")]
    [InlineData(15_000L, "1.5ms")]
    [InlineData(10_000_000L, "1s")]
    [InlineData(15_000_000L, "1.5s")]
    [InlineData(300_000_000L, "30s")]
    [InlineData(3_000_000_000L, "5m0s")]
    [InlineData(36_000_000_000L, "1h0m0s")]
    [InlineData(54_000_000_000L, "1h30m0s")]
    [InlineData(36_610_000_001L, "1h1m1.0000001s")]
    [InlineData(-50_000_000L, "-5s")]
    public void Format_MatchesGo(long ticks, string expected)
    {
        GoDuration.Format(TimeSpan.FromTicks(ticks)).Should().Be(expected);
    }
}
