using TsNet.Netstack.Tcp;
using TsNet.Packets;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>
/// smoltcp-style scaffolding: one connection under test, segment templates for what the remote sends
/// (<see cref="RecvTemplate"/>) and what we expect (<see cref="SendTemplate"/>), <see cref="Recv"/> to feed a
/// segment, <see cref="Send"/> to drain what the connection emits (parsed back through <see cref="TcpHeader.TryParse(ReadOnlySpan{byte}, out TcpHeader, out ReadOnlySpan{byte})"/>),
/// and a virtual clock in milliseconds.
/// </summary>
internal sealed class TcpTestHarness
{
    public const ushort LocalPort = 80;
    public const ushort RemotePort = 49500;
    public static readonly SeqNum LocalSeq = new(10_000);
    public static readonly SeqNum RemoteSeq = new(20_000);
    public static readonly TcpEndpoints Endpoints = new(
        TcpAddress.FromBytes([10, 0, 0, 1]), LocalPort, TcpAddress.FromBytes([10, 0, 0, 2]), RemotePort);

    /// <summary>Plain config: no timestamps, SACK or window scaling, NewReno arithmetic (each test turns on what it checks).</summary>
    public static readonly TcpConfig Plain = new()
    {
        Timestamps = false,
        Sack = false,
        WindowScaling = false,
        CongestionControl = CongestionControlAlgorithm.NewReno,
    };

    /// <summary>What the remote sends after the handshake: ACK, seq = REMOTE+1, ack = LOCAL+1, window 64000.</summary>
    public static readonly TcpHeader RecvTemplate = new()
    {
        SourcePort = RemotePort,
        DestinationPort = LocalPort,
        SequenceNumber = RemoteSeq + 1,
        AcknowledgmentNumber = LocalSeq + 1,
        Flags = TcpFlags.Ack,
        Window = 64000,
    };

    /// <summary>What we send after the handshake with <see cref="Plain"/>: ACK, seq = LOCAL+1, ack = REMOTE+1, window 65535.</summary>
    public static readonly TcpHeader SendTemplate = new()
    {
        SourcePort = LocalPort,
        DestinationPort = RemotePort,
        SequenceNumber = LocalSeq + 1,
        AcknowledgmentNumber = RemoteSeq + 1,
        Flags = TcpFlags.Ack,
        Window = 65535,
    };

    private readonly byte[] _buffer = new byte[1500];

    public TcpTestHarness(TcpConnection connection) => Connection = connection;

    public TcpConnection Connection { get; }

    /// <summary>Virtual time in ticks.</summary>
    public long Now { get; set; }

    public static long Ms(double milliseconds) => (long)(milliseconds * TimeSpan.TicksPerMillisecond);

    /// <summary>A connection in SYN-SENT (SYN not yet taken).</summary>
    public static TcpTestHarness SynSent(TcpConfig? config = null) =>
        new(TcpConnection.Connect(Endpoints, config ?? Plain, LocalSeq, 0));

    /// <summary>A connection in SYN-RECEIVED from a plain SYN (SYN-ACK not yet taken).</summary>
    public static TcpTestHarness SynReceived(TcpConfig? config = null, TcpHeader? syn = null) =>
        new(TcpConnection.Accept(Endpoints, config ?? Plain, LocalSeq, syn ?? RemoteSyn, 0));

    /// <summary>The remote's SYN without options except MSS 1460.</summary>
    public static TcpHeader RemoteSyn => RecvTemplate with
    {
        SequenceNumber = RemoteSeq,
        AcknowledgmentNumber = default,
        Flags = TcpFlags.Syn,
        MaxSegmentSize = 1460,
    };

    /// <summary>An ESTABLISHED connection (passive open, handshake done, nothing owed).</summary>
    public static TcpTestHarness Established(TcpConfig? config = null)
    {
        var h = SynReceived(config);
        h.SendOne().Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);
        h.Recv(RecvTemplate);
        h.Connection.State.Should().Be(TcpState.Established);
        h.SendNothing();
        h.Connection.TakeEvents();
        return h;
    }

    public void Recv(TcpHeader header, byte[]? payload = null) => Connection.OnSegment(header, payload ?? [], Now);

    public void Recv(TcpHeader header, string payload) => Recv(header, System.Text.Encoding.ASCII.GetBytes(payload));

    /// <summary>Drains every segment the connection has to send now.</summary>
    public List<(TcpHeader Header, byte[] Payload)> Send()
    {
        var segments = new List<(TcpHeader, byte[])>();
        while (Connection.TryGetSegment(_buffer, out int length, Now))
        {
            TcpHeader.TryParse(_buffer.AsSpan(0, length), out var header, out var payload).Should().BeTrue();
            segments.Add((header, payload.ToArray()));
            segments.Count.Should().BeLessThan(10_000);
        }

        return segments;
    }

    /// <summary>Expects exactly one segment and returns its header.</summary>
    public TcpHeader SendOne() => SendOneWithPayload().Header;

    public (TcpHeader Header, byte[] Payload) SendOneWithPayload()
    {
        var segments = Send();
        segments.Should().HaveCount(1, "one segment expected, got: {0}", string.Join("; ", segments.Select(s => s.Header)));
        return segments[0];
    }

    public void SendNothing()
    {
        var segments = Send();
        segments.Should().BeEmpty("nothing expected, got: {0}", string.Join("; ", segments.Select(s => s.Header)));
    }

    /// <summary>Moves the clock and runs timers.</summary>
    public void Advance(long ticks)
    {
        Now += ticks;
        Connection.Poll(Now);
    }

    /// <summary>Moves the clock to the connection's next deadline and runs timers; returns the time moved.</summary>
    public long AdvanceToDeadline()
    {
        long deadline = Connection.NextDeadline;
        deadline.Should().NotBe(long.MaxValue);
        long moved = deadline - Now;
        Now = deadline;
        Connection.Poll(Now);
        return moved;
    }

    public int Write(int count, byte fill = 0x61)
    {
        var data = new byte[count];
        data.AsSpan().Fill(fill);
        return Connection.Write(data);
    }

    public byte[] ReadAll()
    {
        var data = new byte[Connection.ReadableBytes];
        Connection.Read(data).Should().Be(data.Length);
        return data;
    }
}
