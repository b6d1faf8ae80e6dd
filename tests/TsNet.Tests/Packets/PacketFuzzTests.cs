using TsNet.Packets;

namespace TsNet.Tests.Packets;

/// <summary>
/// Seeded, bounded fuzzing: truncations, bit flips and random bytes through every view. The only requirement is
/// that nothing throws and that a view, once created, stays inside its buffer.
/// </summary>
public sealed class PacketFuzzTests
{
    private const int RandomCases = 20_000;

    [Fact]
    public void Truncations_OfEveryFixture_NeverThrow()
    {
        foreach (var fixture in PacketFixtures.All)
        {
            for (int length = 0; length <= fixture.Length; length++)
            {
                Exercise(fixture.AsSpan(0, length));
            }
        }
    }

    [Fact]
    public void BitFlips_OfEveryFixture_NeverThrow()
    {
        var random = new Random(20240601);
        foreach (var fixture in PacketFixtures.All)
        {
            for (int i = 0; i < 500; i++)
            {
                var copy = (byte[])fixture.Clone();
                int flips = random.Next(1, 4);
                for (int f = 0; f < flips; f++)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                Exercise(copy);
            }
        }
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        var random = new Random(1234567);
        var buffer = new byte[200];
        for (int i = 0; i < RandomCases; i++)
        {
            int length = random.Next(buffer.Length + 1);
            random.NextBytes(buffer.AsSpan(0, length));
            if (length > 0 && i % 2 == 0)
            {
                // Half the cases get a plausible version nibble so the deeper paths run.
                buffer[0] = (byte)((i % 4 == 0 ? 0x40 : 0x60) | (buffer[0] & 0x0F));
            }

            if (length > 4 && i % 3 == 0)
            {
                // Plausible length fields reach the payload parsers.
                buffer[2] = 0;
                buffer[3] = (byte)length;
                buffer[4] = 0;
                buffer[5] = (byte)Math.Max(0, length - 40);
            }

            Exercise(buffer.AsSpan(0, length));
        }
    }

    private static long Exercise(ReadOnlySpan<byte> bytes)
    {
        long sink = 0;
        if (Ipv4Packet.TryCreate(bytes, out var v4))
        {
            v4.Bytes.Length.Should().BeLessThanOrEqualTo(bytes.Length);
            sink += v4.HeaderLength + v4.TotalLength + v4.Identification + v4.FragmentOffset + v4.TimeToLive + v4.Protocol + v4.Checksum;
            sink += v4.SourceValue + v4.DestinationValue + v4.Options.Length + v4.Payload.Length + v4.Dscp + v4.Ecn;
            sink += (v4.IsChecksumValid() ? 1 : 0) + (v4.IsFragment ? 1 : 0) + (v4.DontFragment ? 1 : 0);
            _ = Ipv4Header.TryParse(v4, out _);
            sink += ExerciseUpperLayers(v4.Payload, v4.Source, v4.Destination, isIpv6: false);
        }

        if (Ipv6Packet.TryCreate(bytes, out var v6))
        {
            v6.Bytes.Length.Should().BeLessThanOrEqualTo(bytes.Length);
            sink += v6.PayloadLength + v6.NextHeader + v6.HopLimit + v6.TrafficClass + v6.FlowLabel;
            sink += (long)(v6.SourceValue ^ v6.DestinationValue);
            if (v6.TryFindUpperLayer(out byte protocol, out int offset))
            {
                offset.Should().BeInRange(Ipv6Packet.HeaderLength, v6.Bytes.Length);
                sink += protocol + ExerciseUpperLayers(v6.Bytes[offset..], v6.Source, v6.Destination, isIpv6: true);
            }

            _ = Ipv6Header.TryParse(v6, out _, out _);
        }

        // The payload parsers also see raw garbage directly.
        sink += ExerciseUpperLayers(bytes, new byte[16], new byte[16], isIpv6: true);
        return sink;
    }

    private static long ExerciseUpperLayers(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, bool isIpv6)
    {
        long sink = 0;
        if (Icmpv4Packet.TryCreate(payload, out var icmp4))
        {
            sink += icmp4.Type + icmp4.Code + icmp4.Checksum + icmp4.Identifier + icmp4.SequenceNumber + icmp4.NextHopMtu + icmp4.Payload.Length;
            sink += icmp4.IsChecksumValid() ? 1 : 0;
        }

        if (Icmpv6Packet.TryCreate(payload, out var icmp6))
        {
            sink += icmp6.Type + icmp6.Code + icmp6.Mtu + icmp6.Identifier + icmp6.SequenceNumber + icmp6.Payload.Length;
            sink += icmp6.IsChecksumValid(source, destination) ? 1 : 0;
        }

        if (UdpDatagram.TryCreate(payload, out var udp))
        {
            udp.Length.Should().BeLessThanOrEqualTo(payload.Length);
            sink += udp.SourcePort + udp.DestinationPort + udp.Checksum + udp.Payload.Length;
            sink += isIpv6 ? (udp.IsChecksumValidIpv6(source, destination) ? 1 : 0) : (udp.IsChecksumValidIpv4(source[..4], destination[..4]) ? 1 : 0);
        }

        if (TcpSegment.TryCreate(payload, out var tcp))
        {
            tcp.HeaderLength.Should().BeLessThanOrEqualTo(payload.Length);
            sink += tcp.SourcePort + tcp.SequenceNumber + tcp.AcknowledgmentNumber + (int)tcp.Flags + tcp.Window + tcp.UrgentPointer + tcp.Payload.Length;
            var reader = new TcpOptionReader(tcp.Options);
            int options = 0;
            while (reader.TryRead(out byte kind, out var data))
            {
                sink += kind + data.Length;
                options++;
                options.Should().BeLessThanOrEqualTo(20, "each option takes at least 2 bytes of a 40-byte option space");
            }
        }

        return sink;
    }
}
