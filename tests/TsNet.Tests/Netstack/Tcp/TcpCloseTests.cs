using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>RST handling (RFC 5961) and closing: FIN-WAIT, CLOSING, CLOSE-WAIT, LAST-ACK, TIME-WAIT.</summary>
public sealed class TcpCloseTests
{
    [Fact]
    public void Established_ExactRst_Resets()
    {
        var h = Established();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Rst });
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.Reset);
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.Closed);
        h.SendNothing();
    }

    [Fact]
    public void Established_InWindowRst_SendsChallengeAck()
    {
        var h = Established();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 100, Flags = TcpFlags.Rst });
        h.Connection.State.Should().Be(TcpState.Established);
        h.SendOne().Should().Be(SendTemplate);
        h.Connection.Counters.ChallengeAcks.Should().Be(1);
    }

    [Fact]
    public void Established_OutOfWindowRst_IsIgnoredSilently()
    {
        var h = Established();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1_000_000, Flags = TcpFlags.Rst });
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq - 10, Flags = TcpFlags.Rst });
        h.Connection.State.Should().Be(TcpState.Established);
        h.SendNothing();
    }

    [Fact]
    public void Established_ChallengeAcks_AreRateLimited()
    {
        var h = Established();
        for (int i = 0; i < 50; i++)
        {
            h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 100, Flags = TcpFlags.Rst });
            h.Send();
        }

        h.Connection.Counters.ChallengeAcks.Should().Be(10);
        h.Now += TimeSpan.TicksPerSecond;
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 100, Flags = TcpFlags.Rst });
        h.SendOne();
    }

    [Fact]
    public void Established_Syn_SendsChallengeAck()
    {
        var h = Established();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 1, Flags = TcpFlags.Syn });
        h.Connection.State.Should().Be(TcpState.Established);
        h.SendOne().Should().Be(SendTemplate);
    }

    [Fact]
    public void Established_AckForUnsentData_SendsAckAndDrops()
    {
        var h = Established();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 1000 }, "data");
        h.Connection.ReadableBytes.Should().Be(0);
        h.SendOne().Should().Be(SendTemplate);
        h.Connection.Counters.BadAckDrops.Should().Be(1);
    }

    [Fact]
    public void Established_AckWithoutAckFlag_IsDropped()
    {
        var h = Established();
        h.Recv(RecvTemplate with { Flags = TcpFlags.None }, "data");
        h.Connection.ReadableBytes.Should().Be(0);
        h.SendNothing();
    }

    [Fact]
    public void Established_Fin_MovesToCloseWait()
    {
        var h = Established();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.Connection.State.Should().Be(TcpState.CloseWait);
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.ReadClosed);
        h.Connection.IsReadClosed.Should().BeTrue();
        h.SendOne().Should().Be(SendTemplate with { AcknowledgmentNumber = RemoteSeq + 2, Window = 65534 }); // the FIN took no buffer: the right edge stays
    }

    [Fact]
    public void Established_FinWithData_DeliversDataThenCloses()
    {
        var h = Established();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin | TcpFlags.Psh }, "bye");
        h.Connection.State.Should().Be(TcpState.CloseWait);
        h.Connection.IsReadClosed.Should().BeFalse();
        System.Text.Encoding.ASCII.GetString(h.ReadAll()).Should().Be("bye");
        h.Connection.IsReadClosed.Should().BeTrue();
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 5);
    }

    [Fact]
    public void Established_OutOfOrderFin_WaitsForTheData()
    {
        var h = Established();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 4, Flags = TcpFlags.Ack | TcpFlags.Fin }, "def");
        h.Connection.State.Should().Be(TcpState.Established);
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 1);
        h.Recv(RecvTemplate, "abc");
        h.Connection.State.Should().Be(TcpState.CloseWait);
        System.Text.Encoding.ASCII.GetString(h.ReadAll()).Should().Be("abcdef");
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 8);
    }

    [Fact]
    public void Established_Shutdown_SendsFin_MovesToFinWait1()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.Connection.State.Should().Be(TcpState.FinWait1);
        h.SendOne().Should().Be(SendTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.Connection.Write([1]).Should().Be(0);
        h.Connection.IsWriteClosed.Should().BeTrue();
    }

    [Fact]
    public void Established_ShutdownAfterData_FinRidesOnLastSegment()
    {
        var h = Established();
        h.Write(10);
        h.Connection.Shutdown();
        var (header, payload) = h.SendOneWithPayload();
        header.Flags.Should().Be(TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin);
        payload.Should().HaveCount(10);
    }

    [Fact]
    public void FinWait1_Ack_MovesToFinWait2()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2 });
        h.Connection.State.Should().Be(TcpState.FinWait2);
        h.Connection.NextDeadline.Should().Be(long.MaxValue); // half-close: no FIN-WAIT-2 limit
    }

    [Fact]
    public void FinWait1_FinAck_MovesToTimeWait()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.Connection.State.Should().Be(TcpState.TimeWait);
        h.SendOne().Should().Be(SendTemplate with { SequenceNumber = LocalSeq + 2, AcknowledgmentNumber = RemoteSeq + 2, Window = 65534 });
    }

    [Fact]
    public void FinWait1_Fin_MovesToClosing_SimultaneousClose()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin }); // does not ACK our FIN
        h.Connection.State.Should().Be(TcpState.Closing);
        h.SendOne().Should().Be(SendTemplate with { SequenceNumber = LocalSeq + 2, AcknowledgmentNumber = RemoteSeq + 2, Window = 65534 });
    }

    [Fact]
    public void Closing_Ack_MovesToTimeWait()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.SendOne();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2, AcknowledgmentNumber = LocalSeq + 2 });
        h.Connection.State.Should().Be(TcpState.TimeWait);
        h.SendNothing();
    }

    [Fact]
    public void FinWait2_Fin_MovesToTimeWait()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2 });
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.Connection.State.Should().Be(TcpState.TimeWait);
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 2);
    }

    [Fact]
    public void FinWait2_DataStillReceived()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2 }, "more");
        h.Connection.ReadableBytes.Should().Be(4);
    }

    [Fact]
    public void TimeWait_ExpiresAfter60s()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.SendOne();
        h.Advance(TimeSpan.FromSeconds(59.9).Ticks);
        h.Connection.State.Should().Be(TcpState.TimeWait);
        h.AdvanceToDeadline();
        h.Now.Should().Be(TimeSpan.FromSeconds(60).Ticks);
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.None);
    }

    [Fact]
    public void TimeWait_RetransmittedFin_ReAcksAndRestartsTimer()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        var fin = RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin };
        h.Recv(fin);
        h.SendOne();
        h.Advance(TimeSpan.FromSeconds(30).Ticks);
        h.Recv(fin);
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 2);
        h.Connection.NextDeadline.Should().Be(h.Now + TimeSpan.FromSeconds(60).Ticks);
    }

    [Fact]
    public void CloseWait_Shutdown_MovesToLastAck_ThenAckCloses()
    {
        var h = Established();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.SendOne();
        h.Connection.Shutdown();
        h.Connection.State.Should().Be(TcpState.LastAck);
        h.SendOne().Should().Be(SendTemplate with { AcknowledgmentNumber = RemoteSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin, Window = 65534 });
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2, AcknowledgmentNumber = LocalSeq + 2 });
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.None);
        h.SendNothing();
    }

    [Fact]
    public void LastAck_FinLost_IsRetransmitted()
    {
        var h = Established();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.SendOne();
        h.Connection.Shutdown();
        h.SendOne();
        h.AdvanceToDeadline().Should().Be(Ms(200)); // the handshake's RTT sample was 0 ⇒ minimum RTO
        h.SendOne().Flags.Should().Be(TcpFlags.Ack | TcpFlags.Fin);
    }

    [Fact]
    public void Abort_SendsRstAndCloses()
    {
        var h = Established();
        h.Connection.Abort();
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.Aborted);
        h.Connection.IsFinished.Should().BeFalse(); // the RST is still to go
        h.SendOne().Should().Be(SendTemplate with { Flags = TcpFlags.Rst | TcpFlags.Ack, Window = 0 });
        h.SendNothing();
        h.Connection.IsFinished.Should().BeTrue();
    }

    [Fact]
    public void Close_WithUnreadData_SendsRst()
    {
        var h = Established();
        h.Recv(RecvTemplate, "unread");
        h.Send();
        h.Connection.Close(h.Now);
        h.Connection.State.Should().Be(TcpState.Closed);
        h.SendOne().Flags.Should().HaveFlag(TcpFlags.Rst);
    }

    [Fact]
    public void Close_FinWait2_GivesUpAfter60s()
    {
        var h = Established();
        h.Connection.Close(h.Now);
        h.SendOne().Flags.Should().HaveFlag(TcpFlags.Fin);
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2 });
        h.Connection.State.Should().Be(TcpState.FinWait2);
        h.AdvanceToDeadline().Should().Be(TimeSpan.FromSeconds(60).Ticks);
        h.Connection.State.Should().Be(TcpState.Closed);
    }

    [Fact]
    public void Close_DataArrivingAfterClose_Resets()
    {
        var h = Established();
        h.Connection.Close(h.Now);
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2 }, "late");
        h.Connection.State.Should().Be(TcpState.Closed);
        h.SendOne().Flags.Should().HaveFlag(TcpFlags.Rst);
    }

    [Fact]
    public void TimeWait_Rst_Closes()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.SendOne();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2, Flags = TcpFlags.Rst });
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.None);
    }

    [Fact]
    public void CloseWait_SecondFinAtReceiveNext_DoesNotAdvance()
    {
        var h = Established();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.SendOne();
        h.Recv(RecvTemplate with { SequenceNumber = RemoteSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.Connection.ReceiveNext.Should().Be(RemoteSeq + 2);
        h.SendOne().AcknowledgmentNumber.Should().Be(RemoteSeq + 2);
    }
}
