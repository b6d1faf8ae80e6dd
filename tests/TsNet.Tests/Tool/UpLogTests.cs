using TsNet.Tool.Commands;

namespace TsNet.Tests.Tool;

/// <summary>The "up" log line counts its services in words that read right for none, one and several.</summary>
public sealed class UpLogTests
{
    [Theory]
    [InlineData(0, "no services")]
    [InlineData(1, "1 service")]
    [InlineData(2, "2 services")]
    public void CountedServices(int count, string expected) => UpLog.CountedServices(count).Should().Be(expected);
}
