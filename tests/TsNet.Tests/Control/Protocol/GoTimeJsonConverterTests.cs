using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Protocol;

/// <summary>Go <c>time.Time</c> JSON (protocol doc §11).</summary>
public sealed class GoTimeJsonConverterTests
{
    [Theory]
    [InlineData("2026-01-25T18:31:27Z", "2026-01-25T18:31:27.0000000+00:00")]
    [InlineData("2025-07-29T18:31:27.550535802Z", "2025-07-29T18:31:27.5505358+00:00")]
    [InlineData("2025-07-29T20:31:27.5+02:00", "2025-07-29T20:31:27.5000000+02:00")]
    [InlineData("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.0000000+00:00")]
    public void Rfc3339WithZone_Parses(string text, string expected)
    {
        GoTimeJsonConverter.TryParse(text, out var time).Should().BeTrue();
        time.ToString("o", System.Globalization.CultureInfo.InvariantCulture).Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2026-01-25T18:31:27")]
    [InlineData("2026-01-25 18:31:27Z")]
    [InlineData("yesterday")]
    public void WithoutZoneOrNotATime_IsRefused(string text) =>
        GoTimeJsonConverter.TryParse(text, out _).Should().BeFalse();

    [Fact]
    public void ZeroTime_IsZero_AndFormatsAsGoDoes()
    {
        GoTimeJsonConverter.TryParse("0001-01-01T00:00:00Z", out var zero).Should().BeTrue();
        GoTimeJsonConverter.IsZero(zero).Should().BeTrue();
        GoTimeJsonConverter.IsZero(null).Should().BeTrue();
        GoTimeJsonConverter.IsZero(DateTimeOffset.UnixEpoch).Should().BeFalse();
        GoTimeJsonConverter.Format(zero).Should().Be("0001-01-01T00:00:00Z");
        GoTimeJsonConverter.Format(RegisterRequest.LogoutExpiry).Should().Be("1970-01-01T00:02:03Z");
        GoTimeJsonConverter.Format(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)).AddTicks(5_000_000))
            .Should().Be("2026-01-02T01:04:05.5Z");
    }
}
