using System.Buffers.Binary;
using TsNet.Packets;

namespace TsNet.Tests.Packets;

public sealed class InternetChecksumTests
{
    /// <summary>RFC 1071 read literally: big-endian 16-bit words, odd byte padded, 32-bit sum folded.</summary>
    private static ushort ReferenceChecksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += i + 1 < data.Length ? (uint)((data[i] << 8) | data[i + 1]) : (uint)(data[i] << 8);
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    [Fact]
    public void Compute_MatchesScalarReference_ForAllLengthsUpTo2000()
    {
        var random = new Random(1071);
        var data = new byte[2000 + 64];
        for (int length = 0; length <= 2000; length++)
        {
            random.NextBytes(data);

            // Unaligned starts exercise the vector loads at every alignment.
            int start = length % 33;
            var span = data.AsSpan(start, length);
            InternetChecksum.Compute(span).Should().Be(ReferenceChecksum(span), "length {0}", length);
        }
    }

    [Fact]
    public void EveryImplementation_MatchesScalarReference_ForAllLengthsUpTo2000()
    {
        // Accumulate picks one path for the hardware at hand; these cover the others too.
        var random = new Random(8);
        var data = new byte[2000 + 64];
        for (int length = 0; length <= 2000; length++)
        {
            random.NextBytes(data);
            var span = data.AsSpan(length % 31, length);
            ushort expected = ReferenceChecksum(span);
            ulong seed = (ulong)random.NextInt64();
            ushort seededExpected = InternetChecksum.Finish(InternetChecksum.AccumulateScalar(span, seed));
            InternetChecksum.Finish(InternetChecksum.AccumulateScalar(span, 0)).Should().Be(expected, "scalar, length {0}", length);
            InternetChecksum.Finish(InternetChecksum.AccumulateVector128(span, 0)).Should().Be(expected, "128, length {0}", length);
            InternetChecksum.Finish(InternetChecksum.AccumulateVector256(span, 0)).Should().Be(expected, "256, length {0}", length);
            InternetChecksum.Finish(InternetChecksum.AccumulateVector128(span, seed)).Should().Be(seededExpected);
            InternetChecksum.Finish(InternetChecksum.AccumulateVector256(span, seed)).Should().Be(seededExpected);
        }
    }

    [Fact]
    public void Compute_AllOnes_ExercisesEveryLaneCarry()
    {
        // 0xFF bytes make every 32-bit lane wrap on the second add.
        var data = new byte[4099];
        data.AsSpan().Fill(0xFF);
        for (int length = 0; length <= data.Length; length += 97)
        {
            var span = data.AsSpan(0, length);
            ushort expected = ReferenceChecksum(span);
            InternetChecksum.Compute(span).Should().Be(expected);
            InternetChecksum.Finish(InternetChecksum.AccumulateVector128(span, ulong.MaxValue)).Should().Be(
                InternetChecksum.Finish(InternetChecksum.AccumulateScalar(span, ulong.MaxValue)));
            InternetChecksum.Finish(InternetChecksum.AccumulateVector256(span, ulong.MaxValue)).Should().Be(
                InternetChecksum.Finish(InternetChecksum.AccumulateScalar(span, ulong.MaxValue)));
        }
    }

    [Fact]
    public void Compute_LargeBuffer_MatchesReference()
    {
        var data = new byte[70_001];
        new Random(7).NextBytes(data);
        InternetChecksum.Compute(data).Should().Be(ReferenceChecksum(data));
    }

    [Fact]
    public void Rfc1071Example_SumsTo_ddf2()
    {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        InternetChecksum.Compute(data).Should().Be(unchecked((ushort)~0xddf2));
    }

    [Fact]
    public void Accumulate_ChainedEvenSpans_EqualsWholeSpan()
    {
        var data = new byte[301];
        new Random(3).NextBytes(data);
        for (int split = 0; split <= 300; split += 2)
        {
            ulong chained = InternetChecksum.Accumulate(data.AsSpan(split), InternetChecksum.Accumulate(data.AsSpan(0, split)));
            InternetChecksum.Finish(chained).Should().Be(ReferenceChecksum(data));
        }
    }

    [Fact]
    public void IsValid_KnownIpv4Headers()
    {
        InternetChecksum.IsValid(PacketFixtures.WikipediaIpv4.AsSpan(0, 20)).Should().BeTrue();
        InternetChecksum.IsValid(PacketFixtures.TsmpIpv4.AsSpan(0, 20)).Should().BeTrue();

        var header = PacketFixtures.WikipediaIpv4.AsSpan(0, 20).ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), 0);
        InternetChecksum.Compute(header).Should().Be(0xb861);
        header[10] = 0xb8;
        header[11] = 0x62;
        InternetChecksum.IsValid(header).Should().BeFalse();
    }

    [Fact]
    public void PseudoHeaderIpv4_MatchesWrittenOutPseudoHeader()
    {
        var packet = PacketFixtures.Ipv4UdpDns;
        var udp = packet.AsSpan(20);
        byte[] pseudo = [.. packet.AsSpan(12, 8), 0, 17, 0, (byte)udp.Length];
        InternetChecksum.Fold(InternetChecksum.PseudoHeaderIpv4(packet.AsSpan(12, 4), packet.AsSpan(16, 4), 17, udp.Length))
            .Should().Be(InternetChecksum.Fold(InternetChecksum.Accumulate(pseudo)));
        InternetChecksum.IsValid(udp, InternetChecksum.PseudoHeaderIpv4(packet.AsSpan(12, 4), packet.AsSpan(16, 4), 17, udp.Length)).Should().BeTrue();
    }

    [Fact]
    public void PseudoHeaderIpv6_VerifiesKnownIcmpv6Echo()
    {
        var packet = PacketFixtures.Ipv6EchoRequest;
        var icmp = packet.AsSpan(40);
        ulong pseudo = InternetChecksum.PseudoHeaderIpv6(packet.AsSpan(8, 16), packet.AsSpan(24, 16), 58, icmp.Length);
        InternetChecksum.IsValid(icmp, pseudo).Should().BeTrue();

        var copy = icmp.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(2), 0);
        InternetChecksum.Compute(copy, pseudo).Should().Be(0x2cbd);
    }
}
