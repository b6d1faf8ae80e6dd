using TsNet.Netstack.Tcp;

namespace TsNet.Tests.Netstack.Tcp;

public sealed class TcpBufferTests
{
    [Fact]
    public void SendBuffer_WrapsAndPeeksAtOffsets()
    {
        var buffer = new SendBuffer(8, 16);
        buffer.Write([1, 2, 3, 4, 5, 6]).Should().Be(6);
        buffer.Consume(4);
        buffer.Write([7, 8, 9, 10, 11, 12, 13]).Should().Be(6); // 2 held + 6 = capacity
        buffer.Free.Should().Be(0);
        var peek = new byte[5];
        buffer.Peek(1, peek).Should().Be(5);
        peek.Should().Equal(6, 7, 8, 9, 10);
        buffer.Peek(8, peek).Should().Be(0);
        buffer.Grow(12);
        buffer.Capacity.Should().Be(12);
        buffer.Write([13, 14]).Should().Be(2);
        var all = new byte[10];
        buffer.Peek(0, all).Should().Be(10);
        all.Should().Equal(5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        buffer.Grow(100);
        buffer.Capacity.Should().Be(16);
    }

    [Fact]
    public void ReceiveBuffer_OutOfOrderBytesStayInPlaceUntilCommitted()
    {
        var buffer = new ReceiveBuffer(8, 8);
        buffer.WriteAt(0, [1, 2, 3]);
        buffer.Commit(3);
        var read = new byte[2];
        buffer.Read(read).Should().Be(2);
        buffer.WriteAt(3, [7, 8, 9, 10]); // wraps; a hole of 3 bytes before it
        buffer.Count.Should().Be(1);
        buffer.WriteAt(0, [4, 5, 6]);
        buffer.Commit(7);
        buffer.Free.Should().Be(0);
        var rest = new byte[10];
        buffer.Read(rest).Should().Be(8);
        rest[..8].Should().Equal(3, 4, 5, 6, 7, 8, 9, 10);
    }

    [Fact]
    public void ReceiveBuffer_GrowKeepsOutOfOrderOffsets()
    {
        var buffer = new ReceiveBuffer(4, 8);
        buffer.WriteAt(0, [1, 2, 3]);
        buffer.Commit(3);
        buffer.Read(new byte[2]);
        buffer.WriteAt(1, [5, 6]); // ring positions 0..1 after wrapping
        buffer.Grow(8);
        buffer.WriteAt(0, [4]);
        buffer.Commit(3);
        var rest = new byte[8];
        buffer.Read(rest).Should().Be(4);
        rest[..4].Should().Equal(3, 4, 5, 6);
    }

    [Fact]
    public void SendBuffer_WrappedRingGrowsInOrder_AndReturnsArrayWhenEmpty()
    {
        var buffer = new SendBuffer(100_000, 100_000);
        buffer.StorageLength.Should().Be(0);
        buffer.Write(Pattern(0, 1500)).Should().Be(1500);
        int first = buffer.StorageLength;
        first.Should().BeGreaterThanOrEqualTo(1500).And.BeLessThan(100_000);
        buffer.Consume(1400);
        buffer.Write(Pattern(1500, first - 200)).Should().Be(first - 200); // the tail wraps inside the first array
        buffer.StorageLength.Should().Be(first);
        buffer.Write(Pattern(1300 + first, 5000)).Should().Be(5000); // outgrows it
        buffer.StorageLength.Should().BeGreaterThan(first);
        var all = new byte[buffer.Count];
        buffer.Peek(0, all).Should().Be(all.Length);
        all.Should().Equal(Pattern(1400, all.Length));
        buffer.Consume(buffer.Count);
        buffer.StorageLength.Should().Be(0);
    }

    [Fact]
    public void ReceiveBuffer_WrappedRingGrowsForFarOutOfOrderBytes()
    {
        var buffer = new ReceiveBuffer(100_000, 100_000);
        buffer.WriteAt(0, Pattern(0, 1500));
        buffer.Commit(1500);
        int first = buffer.StorageLength;
        buffer.Read(new byte[1400]).Should().Be(1400);
        buffer.WriteAt(10_000, Pattern(11_500, 500)); // beyond the first array
        buffer.StorageLength.Should().BeGreaterThan(first);
        buffer.WriteAt(0, Pattern(1500, 10_000));
        buffer.Commit(10_500);
        var rest = new byte[buffer.Count];
        buffer.Read(rest).Should().Be(10_600);
        rest.Should().Equal(Pattern(1400, 10_600));
        buffer.ReleaseIfEmpty();
        buffer.StorageLength.Should().Be(0);
    }

    [Fact]
    public void Reassembler_MergesAndAdvances()
    {
        var r = new Reassembler(4);
        r.Add(S(20), S(30)).Should().BeTrue();
        r.Add(S(40), S(50)).Should().BeTrue();
        r.Add(S(30), S(40)).Should().BeTrue(); // joins both
        r.Count.Should().Be(1);
        r[0].Should().Be(new SackBlock(S(20), S(50)));
        r.Advance(S(10)).Should().Be(S(10));
        r.Advance(S(20)).Should().Be(S(50));
        r.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Reassembler_OverlapsAndDuplicates()
    {
        var r = new Reassembler(4);
        r.Add(S(20), S(30));
        r.Add(S(25), S(35));
        r.Add(S(15), S(22));
        r.Add(S(20), S(30));
        r.Count.Should().Be(1);
        r[0].Should().Be(new SackBlock(S(15), S(35)));
        r.Advance(S(30)).Should().Be(S(35)); // RCV.NXT inside the range
    }

    [Fact]
    public void Reassembler_RefusesRangeBeyondBound()
    {
        var r = new Reassembler(2);
        r.Add(S(10), S(20)).Should().BeTrue();
        r.Add(S(30), S(40)).Should().BeTrue();
        r.Add(S(50), S(60)).Should().BeFalse();
        r.Add(S(20), S(25)).Should().BeTrue(); // extends an existing range: no new hole
        r.Count.Should().Be(2);
        r[0].Should().Be(new SackBlock(S(10), S(25)));
    }

    [Fact]
    public void Reassembler_SackBlocks_NewestFirst()
    {
        var r = new Reassembler(8);
        r.Add(S(100), S(110));
        r.Add(S(300), S(310));
        r.Add(S(200), S(210));
        r.Add(S(105), S(120)); // touches the first range last
        var blocks = r.AppendSackBlocks(SackBlocks.Empty, 3);
        blocks.Count.Should().Be(3);
        blocks[0].Should().Be(new SackBlock(S(100), S(120)));
        blocks[1].Should().Be(new SackBlock(S(200), S(210)));
        blocks[2].Should().Be(new SackBlock(S(300), S(310)));
        r.AppendSackBlocks(SackBlocks.Empty, 1).Count.Should().Be(1);
    }

    [Fact]
    public void Reassembler_AcrossWrap()
    {
        var r = new Reassembler(4);
        r.Add(new SeqNum(0xFFFF_FFF0), new SeqNum(0x10));
        r.Add(new SeqNum(0x10), new SeqNum(0x20));
        r.Count.Should().Be(1);
        r.Advance(new SeqNum(0xFFFF_FFF0)).Should().Be(new SeqNum(0x20));
    }

    private static SeqNum S(uint value) => new(value);

    private static byte[] Pattern(int from, int length) => Enumerable.Range(from, length).Select(i => (byte)(i % 251)).ToArray();
}
