using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>
/// After a retransmission timeout the sender goes back to SND.UNA, but its pure ACKs must still carry SEQ = SND.MAX:
/// the peer may already hold everything up to SND.MAX (only its ACKs were lost), and would reject an older SEQ as an
/// out-of-window segment without looking at its ACK field. With both directions timed out that was a deadlock: every
/// retransmission and every ACK was "old" to the other side until the data-retry limit closed both connections.
/// </summary>
public sealed class TcpTimeoutAckTests
{
    private const int Mss = 1240;

    [Fact]
    public void PureAck_AfterTimeout_CarriesSndMax_NotTheGoBackNPointer()
    {
        var h = Established();
        h.Write(10 * Mss);
        h.Send().Should().HaveCount(10);
        h.AdvanceToDeadline(); // RTO: go back to SND.UNA with cwnd 1 MSS
        h.SendOneWithPayload().Header.SequenceNumber.Should().Be(LocalSeq + 1);
        h.Connection.SendNext.Should().Be(LocalSeq + 1 + Mss);

        h.Recv(RecvTemplate, new byte[Mss]);
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1 + Mss }, new byte[Mss]); // a second segment: ACK at once
        var ack = h.SendOneWithPayload();
        ack.Payload.Should().BeEmpty("the congestion window is full: the ACK goes alone");
        ack.Header.AcknowledgmentNumber.Should().Be(RemoteSeq + 1 + (2 * Mss));
        ack.Header.SequenceNumber.Should().Be(LocalSeq + 1 + (10 * Mss), "SND.MAX, acceptable to a peer that got all 10 segments");
    }

    [Fact]
    public void AckEchoingATimestampFromBeforeTheTimeout_IsNoRttSample()
    {
        var config = Plain with { Timestamps = true };
        var h = SynReceived(config, RemoteSyn with { Timestamps = new TcpTimestamps(1, 0) });
        h.SendOne();
        h.Now = Ms(100);
        h.Recv(RecvTemplate with { Timestamps = new TcpTimestamps(2, 0) }); // SYN-ACK's TSval was 0: no sample
        h.Connection.State.Should().Be(TcpState.Established);
        int mss = h.Connection.EffectiveMss;
        h.Write(4 * mss);
        var originals = h.Send();
        originals.Should().HaveCount(4);
        uint originalTsval = originals[0].Header.Timestamps!.Value.Value;
        h.AdvanceToDeadline(); // 1 s initial RTO
        h.Send().Should().HaveCount(1);
        h.AdvanceToDeadline(); // backed off: 2 s more
        h.Send().Should().HaveCount(1);
        h.Connection.RetransmitTimer.Backoff.Should().Be(2);

        // The peer had all four (its ACKs were lost); answering the resend it echoes the original's TSval.
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 1 + (4 * mss), Timestamps = new TcpTimestamps(3, originalTsval) });
        h.Connection.SendUnacknowledged.Should().Be(LocalSeq + 1 + (4 * mss));
        h.Connection.Rtt.HasSample.Should().BeFalse("the 3 s since the original are our timeouts, not the path's RTT");
        h.Connection.RetransmitTimer.Backoff.Should().Be(2, "Karn: the backoff stays until a valid sample");

        h.Write(mss);
        uint fresh = h.SendOneWithPayload().Header.Timestamps!.Value.Value;
        h.Now += Ms(30);
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 1 + (5 * mss), Timestamps = new TcpTimestamps(4, fresh) });
        h.Connection.Rtt.SmoothedRtt.Should().Be(Ms(30));
        h.Connection.RetransmitTimer.Backoff.Should().Be(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BothSidesTimedOut_WithAllAcksLost_RecoverPromptly(bool options)
    {
        // RACK-TLP off: the scenario needs both sides in a retransmission timeout, which a tail loss probe would pre-empt.
        var config = options ? TcpConfig.Default with { RackTlp = false } : Plain;
        var clientEndpoints = new TcpEndpoints(TcpAddress.FromBytes([10, 0, 0, 2]), RemotePort, TcpAddress.FromBytes([10, 0, 0, 1]), LocalPort);
        long now = 0;
        var client = TcpConnection.Connect(clientEndpoints, config, RemoteSeq, now);
        var buffer = new byte[1500];
        TcpConnection? server = null;

        // Moves every segment from one side to the other (dropped when deliver is false) until both are quiet.
        void Pump(bool deliver)
        {
            for (bool any = true; any;)
            {
                any = false;
                while (client.TryGetSegment(buffer, out int n, now))
                {
                    any = true;
                    TcpHeader.TryParse(buffer.AsSpan(0, n), out var header, out var payload).Should().BeTrue();
                    if (server is null)
                    {
                        server = TcpConnection.Accept(Endpoints, config, LocalSeq, header, now);
                    }
                    else if (deliver)
                    {
                        server.OnSegment(header, payload, now);
                    }
                }

                while (server is not null && server.TryGetSegment(buffer, out int n, now))
                {
                    any = true;
                    TcpHeader.TryParse(buffer.AsSpan(0, n), out var header, out var payload).Should().BeTrue();
                    if (deliver)
                    {
                        client.OnSegment(header, payload, now);
                    }
                }
            }
        }

        Pump(deliver: true);
        server!.State.Should().Be(TcpState.Established);
        client.State.Should().Be(TcpState.Established);

        // Both write a few segments; each side receives all the other's data but every ACK for it is lost.
        const int bytes = 4 * Mss;
        client.Write(new byte[bytes]).Should().Be(bytes);
        server.Write(new byte[bytes]).Should().Be(bytes);
        var toServer = Drain(client, buffer, now);
        var toClient = Drain(server, buffer, now);
        toServer.Sum(s => s.Payload.Length).Should().Be(bytes);
        toClient.Sum(s => s.Payload.Length).Should().Be(bytes);
        toServer.ForEach(s => server.OnSegment(s.Header, s.Payload, now));
        toClient.ForEach(s => client.OnSegment(s.Header, s.Payload, now));
        Pump(deliver: false);
        server.ReceiveNext.Should().Be(client.SendNext);
        client.ReceiveNext.Should().Be(server.SendNext);

        // Both time out and go back to SND.UNA; from here on the link is perfect.
        now = Math.Max(client.NextDeadline, server.NextDeadline);
        client.Poll(now);
        server.Poll(now);
        client.Counters.RetransmitTimeouts.Should().Be(1);
        server.Counters.RetransmitTimeouts.Should().Be(1);
        long end = now + TimeSpan.FromSeconds(30).Ticks;
        while (now < end && (client.SendUnacknowledged != server.ReceiveNext || server.SendUnacknowledged != client.ReceiveNext))
        {
            Pump(deliver: true);
            now = Math.Clamp(Math.Min(client.NextDeadline, server.NextDeadline), now + 1, end);
            client.Poll(now);
            server.Poll(now);
        }

        client.SendUnacknowledged.Should().Be(server.ReceiveNext, "the server's ACK got through");
        server.SendUnacknowledged.Should().Be(client.ReceiveNext, "the client's ACK got through");
        client.SendUnacknowledged.Should().Be(RemoteSeq + 1 + bytes);
        server.SendUnacknowledged.Should().Be(LocalSeq + 1 + bytes);
        // (A side whose owed ACK rode on its own wholly-old retransmission may need one more timeout; before the fix
        // both sides timed out until the retry limit closed them.)
        client.Counters.RetransmitTimeouts.Should().BeLessThanOrEqualTo(2);
        server.Counters.RetransmitTimeouts.Should().BeLessThanOrEqualTo(2);
        client.State.Should().Be(TcpState.Established);
        server.State.Should().Be(TcpState.Established);
    }

    private static List<(TcpHeader Header, byte[] Payload)> Drain(TcpConnection connection, byte[] buffer, long now)
    {
        var segments = new List<(TcpHeader, byte[])>();
        while (connection.TryGetSegment(buffer, out int n, now))
        {
            TcpHeader.TryParse(buffer.AsSpan(0, n), out var header, out var payload).Should().BeTrue();
            segments.Add((header, payload.ToArray()));
        }

        return segments;
    }
}
