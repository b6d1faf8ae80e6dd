using TsNet.Tool.Http;

namespace TsNet.Tests.Tool;

/// <summary><see cref="ByteRange.Parse"/>: one range clipped to the file, unsatisfiable starts, everything else ignored.</summary>
public sealed class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=0-99", 0, 99)]
    [InlineData("BYTES=10-", 10, 999)]
    [InlineData("bytes= 10 - 20 ", 10, 20)]
    [InlineData("bytes=-1", 999, 999)]
    [InlineData("bytes=-99999999999999999999", 0, 999)]
    [InlineData("bytes=5-99999999999999999999", 5, 999)]
    public void OneRange_IsClippedToTheFile(string header, long first, long last)
    {
        ByteRange.Parse(header, 1000, out var range).Should().Be(ByteRangeRequest.Range);
        range.Should().Be(new ByteRange(first, last));
        range.Length.Should().Be(last - first + 1);
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=1000-2000")]
    [InlineData("bytes=-0")]
    [InlineData("bytes=99999999999999999999-")]
    public void StartAtOrPastTheEnd_IsUnsatisfiable(string header) =>
        ByteRange.Parse(header, 1000, out _).Should().Be(ByteRangeRequest.Unsatisfiable);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bytes=")]
    [InlineData("bytes=-")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=+1-2")]
    [InlineData("bytes=2-1")]
    [InlineData("bytes=0-1,3-4")]
    [InlineData("items=0-1")]
    public void AnythingElse_AsksForNothing(string? header) =>
        ByteRange.Parse(header, 1000, out _).Should().Be(ByteRangeRequest.None);

    [Fact]
    public void AnEmptyFile_IsServedWhole_WhateverTheRange() =>
        ByteRange.Parse("bytes=0-0", 0, out _).Should().Be(ByteRangeRequest.None);
}
