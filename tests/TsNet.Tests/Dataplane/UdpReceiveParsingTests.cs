using System.Buffers.Binary;
using System.Net;
using TsNet.Dataplane.Receive;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Dataplane;

/// <summary>The batched receive's sans-IO pieces: the cmsg chain, the GRO split and the kernel's source address.</summary>
public sealed class UdpReceiveParsingTests
{
    [Fact]
    public void GroSegmentSize_IsReadFromItsControlMessage()
    {
        var control = new byte[64];
        var written = UdpControlMessages.WriteGroSegmentSize(control, 1312);

        written.Should().Be(24, "a 16-byte header and a 4-byte int, padded to 8");
        UdpControlMessages.TryReadGroSegmentSize(control.AsSpan(0, written), out var size).Should().BeTrue();
        size.Should().Be(1312);
    }

    [Fact]
    public void GroSegmentSize_IsFoundBehindAnotherControlMessage()
    {
        // An IP_TOS-like message first (level 0, type 1, one byte of data: 17 bytes, padded to 24).
        var control = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(control, 17);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(8), 0);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(12), 1);
        control[16] = 0xB8;
        var written = 24 + UdpControlMessages.WriteGroSegmentSize(control.AsSpan(24), 1200);

        UdpControlMessages.TryReadGroSegmentSize(control.AsSpan(0, written), out var size).Should().BeTrue();
        size.Should().Be(1200);
    }

    [Fact]
    public void NoOrMalformedControlMessages_MeanOneDatagram()
    {
        UdpControlMessages.TryReadGroSegmentSize([], out _).Should().BeFalse();

        var other = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(other, 20);
        BinaryPrimitives.WriteInt32LittleEndian(other.AsSpan(8), 0);
        BinaryPrimitives.WriteInt32LittleEndian(other.AsSpan(12), 8);
        UdpControlMessages.TryReadGroSegmentSize(other, out _).Should().BeFalse("only SOL_UDP/UDP_GRO carries a segment size");

        var control = new byte[24];
        UdpControlMessages.WriteGroSegmentSize(control, 1000);
        UdpControlMessages.TryReadGroSegmentSize(control.AsSpan(0, 19), out _).Should().BeFalse("a truncated chain is not trusted");

        BinaryPrimitives.WriteUInt64LittleEndian(control, 8);
        UdpControlMessages.TryReadGroSegmentSize(control, out _).Should().BeFalse("a length below the header size is malformed");

        UdpControlMessages.WriteGroSegmentSize(control, 0);
        UdpControlMessages.TryReadGroSegmentSize(control, out _).Should().BeFalse("segment size 0 splits nothing");
    }

    [Theory]
    [InlineData(4000, 1000, new[] { 1000, 1000, 1000, 1000 })]
    [InlineData(3500, 1000, new[] { 1000, 1000, 1000, 500 })]
    [InlineData(700, 1000, new[] { 700 })]
    [InlineData(700, 0, new[] { 700 })]
    [InlineData(0, 0, new[] { 0 })]
    public void CoalescedReceive_SplitsAtTheSegmentSize_LastOneShorter(int length, int segmentSize, int[] expected)
    {
        var received = new byte[length];
        for (var i = 0; i < length; i++)
        {
            received[i] = (byte)(i / 100);
        }

        var lengths = new List<int>();
        var offset = 0;
        foreach (var datagram in new CoalescedDatagrams(received, segmentSize))
        {
            datagram.SequenceEqual(received.AsSpan(offset, datagram.Length)).Should().BeTrue("slices are consecutive and unchanged");
            offset += datagram.Length;
            lengths.Add(datagram.Length);
        }

        lengths.Should().Equal(expected);
        offset.Should().Be(length);
    }

    [Fact]
    public void SourceAddresses_AreReadFromTheKernelsSockaddr()
    {
        var v4 = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(v4, NativeSocketAddress.AfInet);
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(2), 41641);
        new byte[] { 127, 0, 0, 1 }.CopyTo(v4, 4);
        NativeSocketAddress.TryRead(v4, out var a).Should().BeTrue();
        a.Should().Be(UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 41641)));

        var v6 = new byte[28];
        BinaryPrimitives.WriteUInt16LittleEndian(v6, NativeSocketAddress.AfInet6);
        BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(2), 443);
        IPAddress.Parse("fd7a:115c:a1e0::1").GetAddressBytes().CopyTo(v6, 8);
        BinaryPrimitives.WriteUInt32LittleEndian(v6.AsSpan(24), 3);
        NativeSocketAddress.TryRead(v6, out var b).Should().BeTrue();
        b.Should().Be(UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("fd7a:115c:a1e0::1%3"), 443)));

        var mapped = new byte[28];
        BinaryPrimitives.WriteUInt16LittleEndian(mapped, NativeSocketAddress.AfInet6);
        BinaryPrimitives.WriteUInt16BigEndian(mapped.AsSpan(2), 41641);
        IPAddress.Parse("::ffff:127.0.0.1").GetAddressBytes().CopyTo(mapped, 8);
        NativeSocketAddress.TryRead(mapped, out var c).Should().BeTrue();
        c.Should().Be(a, "a v4-mapped source is the same peer address as the IPv4 one");

        NativeSocketAddress.TryRead(v4.AsSpan(0, 6), out _).Should().BeFalse();
        NativeSocketAddress.TryRead(v6.AsSpan(0, 24), out _).Should().BeFalse();
        var unix = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(unix, 1);
        NativeSocketAddress.TryRead(unix, out _).Should().BeFalse();
    }
}
