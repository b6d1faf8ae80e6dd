using TsNet.Netstack.Tcp;
using TsNet.Packets;
using Xunit.Abstractions;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>
/// Seeded fuzzing: arbitrary segments (random flags, sequence and acknowledgment numbers near and far from the
/// windows, options, payload lengths, raw garbage) into connections in every state, interleaved with timers and
/// application calls. Nothing may throw, buffers stay bounded, and a valid transfer running alongside (with blind
/// RST/SYN/ACK injections aimed at it) still completes byte-exact.
/// </summary>
public sealed class TcpFuzzTests(ITestOutputHelper output)
{
    private static readonly int Scale = TestScale.Factor;

    public static TheoryData<string> States => new()
    {
        "SynSent", "SynReceived", "Established", "FinWait1", "FinWait2", "CloseWait", "Closing", "LastAck", "TimeWait",
    };

    [Theory]
    [MemberData(nameof(States))]
    public void RandomSegments_InEveryState_NeverThrowAndStayBounded(string state)
    {
        var random = new Random(state.GetHashCode(StringComparison.Ordinal) ^ 0x5eed);
        int inputs = 0;
        for (int round = 0; round < 40 * Scale; round++)
        {
            var config = random.Next(2) == 0 ? TcpConfig.Default : new TcpConfig
            {
                Timestamps = random.Next(2) == 0,
                Sack = random.Next(2) == 0,
                WindowScaling = random.Next(2) == 0,
                ReceiveBufferSize = 4096,
                MaxReceiveBufferSize = 4096,
                SendBufferSize = 4096,
                MaxSendBufferSize = 4096,
                MaxReassemblyRanges = 4,
                KeepAlive = random.Next(2) == 0,
                KeepAliveIdle = TimeSpan.FromSeconds(1),
                KeepAliveInterval = TimeSpan.FromSeconds(1),
            };
            var h = Build(state, config);
            h.Connection.State.ToString().Should().Be(state);
            for (int i = 0; i < 250; i++)
            {
                inputs++;
                Mutate(h, random);
                foreach (var (header, payload) in h.Send())
                {
                    payload.Length.Should().BeLessThanOrEqualTo(1240);
                    header.Length.Should().BeLessThanOrEqualTo(TcpHeader.MaxLength);
                }

                h.Connection.ReadableBytes.Should().BeLessThanOrEqualTo(config.MaxReceiveBufferSize);
                h.Connection.UnacknowledgedBytes.Should().BeLessThanOrEqualTo(config.MaxSendBufferSize);
                h.Connection.NextDeadline.Should().BeGreaterThanOrEqualTo(h.Now - 1);
            }
        }

        output.WriteLine($"{state}: {inputs} inputs");
    }

    [Fact]
    public void RawGarbage_ParsesOrFails_NeverThrows()
    {
        var random = new Random(99);
        var h = Established(TcpConfig.Default);
        int parsed = 0;
        int inputs = 5000 * Scale;
        var buffer = new byte[100];
        for (int i = 0; i < inputs; i++)
        {
            int length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            if (length > 12 && random.Next(2) == 0)
            {
                buffer[12] = (byte)(random.Next(5, 16) << 4); // a plausible data offset, so options get exercised
            }

            if (TcpHeader.TryParse(buffer.AsSpan(0, length), out var header, out var payload))
            {
                parsed++;
                h.Connection.OnSegment(header, payload, h.Now);
                h.Send();
            }
        }

        output.WriteLine($"{inputs} raw inputs, {parsed} parsed");
        parsed.Should().BeGreaterThan(0);
    }

    [Fact]
    public void ValidTransfer_SurvivesBlindInjection()
    {
        var random = new Random(1234);
        int injected = 0;
        var sim = new TcpLinkSimulator(seed: 5, bytes: 256 * 1024 * Scale, TcpConfig.Default)
        {
            LossRate = 0.02,
            BeforeStep = s =>
            {
                if (s.Server is null || random.Next(4) != 0)
                {
                    return;
                }

                // Blind attacker: right 4-tuple, random numbers, no payload (RST, SYN, or a bare ACK). Half the time
                // it guessed a sequence number inside the window (but not RCV.NXT itself): RFC 5961 challenge ACKs.
                var flags = random.Next(3) switch { 0 => TcpFlags.Rst, 1 => TcpFlags.Syn, _ => TcpFlags.Ack };
                var seq = random.Next(2) == 0
                    ? s.Server.ReceiveNext + random.Next(1, 60_000)
                    : new SeqNum((uint)random.NextInt64(uint.MaxValue));
                var header = new TcpHeader
                {
                    SourcePort = s.ServerEndpoints.RemotePort,
                    DestinationPort = s.ServerEndpoints.LocalPort,
                    SequenceNumber = seq,
                    AcknowledgmentNumber = new SeqNum((uint)random.NextInt64(uint.MaxValue)),
                    Flags = flags | (random.Next(2) == 0 ? TcpFlags.Ack : 0),
                    Window = (ushort)random.Next(ushort.MaxValue),
                };
                var bytes = new byte[header.Length];
                header.Emit(bytes);
                s.ServerEndpoints.Reversed().FillChecksum(bytes);
                s.Inject(toServer: true, bytes);
                injected++;
            },
        };
        sim.Run(TimeSpan.FromSeconds(300).Ticks);
        output.WriteLine($"{injected} injected segments; server challenge ACKs {sim.Server?.Counters.ChallengeAcks}");
        sim.HashMatches.Should().BeTrue();
        sim.Completed.Should().BeTrue();
        sim.Server!.Error.Should().Be(TcpError.None);
        sim.Server.Counters.ChallengeAcks.Should().BeGreaterThan(0);
    }

    /// <summary>Drives a fresh connection into <paramref name="state"/> with valid segments.</summary>
    private static TcpTestHarness Build(string state, TcpConfig config)
    {
        var finAck = RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin };
        switch (state)
        {
            case "SynSent":
            {
                var h = SynSent(config);
                h.Send();
                return h;
            }

            case "SynReceived":
            {
                var h = SynReceived(config);
                h.Send();
                return h;
            }

            default:
                break;
        }

        var e = Established(config);
        switch (state)
        {
            case "FinWait1":
                e.Connection.Shutdown();
                e.Send();
                break;
            case "FinWait2":
                e.Connection.Shutdown();
                e.Send();
                e.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2 });
                break;
            case "CloseWait":
                e.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
                break;
            case "Closing":
                e.Connection.Shutdown();
                e.Send();
                e.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
                break;
            case "LastAck":
                e.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
                e.Connection.Shutdown();
                break;
            case "TimeWait":
                e.Connection.Shutdown();
                e.Send();
                e.Recv(finAck);
                break;
            default:
                break;
        }

        e.Send();
        return e;
    }

    private static void Mutate(TcpTestHarness h, Random random)
    {
        switch (random.Next(10))
        {
            case 0:
                h.Advance(random.Next(3) == 0 ? random.NextInt64(TimeSpan.TicksPerMinute) : random.NextInt64(TimeSpan.TicksPerSecond));
                return;
            case 1:
                h.Write(random.Next(3000));
                return;
            case 2:
                h.Connection.Read(new byte[random.Next(3000)]);
                return;
            case 3 when random.Next(20) == 0:
                if (random.Next(2) == 0)
                {
                    h.Connection.Shutdown();
                }
                else
                {
                    h.Connection.Close(h.Now);
                }

                return;
            default:
                break;
        }

        h.Recv(RandomHeader(h, random), new byte[RandomPayloadLength(random)]);
    }

    private static int RandomPayloadLength(Random random) => random.Next(4) switch
    {
        0 => 0,
        1 => random.Next(1, 10),
        2 => random.Next(1000, 1500),
        _ => random.Next(5000),
    };

    private static TcpHeader RandomHeader(TcpTestHarness h, Random random)
    {
        SeqNum Near(SeqNum anchor) => random.Next(4) switch
        {
            0 => new SeqNum((uint)random.NextInt64(uint.MaxValue)),
            1 => anchor,
            _ => anchor + random.Next(-70_000, 70_000),
        };

        var sack = SackBlocks.Empty;
        for (int i = random.Next(5); i > 0; i--)
        {
            var left = Near(h.Connection.SendUnacknowledged);
            sack = sack.Add(new SackBlock(left, left + random.Next(-100, 5000)));
        }

        return new TcpHeader
        {
            SourcePort = RemotePort,
            DestinationPort = LocalPort,
            SequenceNumber = Near(h.Connection.ReceiveNext),
            AcknowledgmentNumber = Near(h.Connection.SendNext),
            Flags = (TcpFlags)random.Next(256) & (random.Next(3) == 0 ? (TcpFlags)0xFF : ~(TcpFlags.Rst | TcpFlags.Syn)),
            Window = (ushort)random.Next(ushort.MaxValue + 1),
            UrgentPointer = (ushort)random.Next(2),
            MaxSegmentSize = random.Next(4) == 0 ? (ushort)random.Next(ushort.MaxValue + 1) : null,
            WindowScale = random.Next(4) == 0 ? (byte)random.Next(256) : null,
            SackPermitted = random.Next(4) == 0,
            Timestamps = random.Next(2) == 0 ? new TcpTimestamps((uint)random.NextInt64(uint.MaxValue), (uint)random.NextInt64(uint.MaxValue)) : null,
            Sack = sack,
        };
    }
}
