using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Tcp;

public sealed class SeqNumTests
{
    [Theory]
    [InlineData(1u, 2u, true)]
    [InlineData(0xFFFF_FFF0u, 0x10u, true)]
    [InlineData(0x10u, 0xFFFF_FFF0u, false)]
    [InlineData(5u, 5u, false)]
    [InlineData(0u, 0x7FFF_FFFFu, true)]
    public void LessThan_WrapsModulo2Pow32(uint a, uint b, bool expected)
    {
        (new SeqNum(a) < new SeqNum(b)).Should().Be(expected);
        (new SeqNum(b) > new SeqNum(a)).Should().Be(expected);
    }

    [Fact]
    public void Addition_Wraps()
    {
        (new SeqNum(0xFFFF_FFFFu) + 2).Should().Be(new SeqNum(1));
        (new SeqNum(1) - 2).Should().Be(new SeqNum(0xFFFF_FFFFu));
        (new SeqNum(3) - new SeqNum(0xFFFF_FFFEu)).Should().Be(5);
        (new SeqNum(0xFFFF_FFFEu) - new SeqNum(3)).Should().Be(-5);
    }

    [Fact]
    public void MaxMinAndRange_UseSequenceOrder()
    {
        var low = new SeqNum(0xFFFF_FFF0u);
        var high = new SeqNum(0x20);
        SeqNum.Max(low, high).Should().Be(high);
        SeqNum.Min(low, high).Should().Be(low);
        new SeqNum(0).IsInRange(low, high).Should().BeTrue();
        high.IsInRange(low, high).Should().BeFalse();
        low.IsInRange(low, high).Should().BeTrue();
        (low <= new SeqNum(low.Value)).Should().BeTrue();
        (low >= high).Should().BeFalse();
    }
}
