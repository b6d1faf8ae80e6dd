using TsNet.Netstack.Tcp;
using TsNet.Packets;
using static TsNet.Tests.Netstack.Tcp.TcpTestHarness;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>Opening: SYN-SENT and SYN-RECEIVED, one (state, event) per test.</summary>
public sealed class TcpHandshakeTests
{
    private static readonly TcpHeader SynAck = RecvTemplate with
    {
        SequenceNumber = RemoteSeq,
        Flags = TcpFlags.Syn | TcpFlags.Ack,
        MaxSegmentSize = 1460,
    };

    [Fact]
    public void Connect_EmitsSynWithAllOptions()
    {
        var h = SynSent(TcpConfig.Default);
        var syn = h.SendOne();
        syn.Flags.Should().Be(TcpFlags.Syn);
        syn.SequenceNumber.Should().Be(LocalSeq);
        syn.MaxSegmentSize.Should().Be(1240); // 1280 − 40
        syn.WindowScale.Should().Be(7); // 4 MiB maximum buffer
        syn.SackPermitted.Should().BeTrue();
        syn.Timestamps.Should().NotBeNull();
        syn.Window.Should().Be(65535);
        h.Connection.State.Should().Be(TcpState.SynSent);
        h.SendNothing();
    }

    [Fact]
    public void Connect_Ipv6_AdvertisesMtuMinus60()
    {
        var endpoints = new TcpEndpoints(
            TcpAddress.FromIPAddress(System.Net.IPAddress.Parse("fd7a::1")), 1,
            TcpAddress.FromIPAddress(System.Net.IPAddress.Parse("fd7a::2")), 2);
        var h = new TcpTestHarness(TcpConnection.Connect(endpoints, Plain, LocalSeq, 0));
        h.SendOne().MaxSegmentSize.Should().Be(1220);
        h.Connection.EffectiveMss.Should().Be(1220); // no MSS from the peer yet: the IPv6 default
    }

    [Fact]
    public void SynSent_SynAck_MovesToEstablished()
    {
        var h = SynSent();
        h.SendOne();
        h.Now = Ms(30);
        h.Recv(SynAck);
        h.Connection.State.Should().Be(TcpState.Established);
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.Connected).And.HaveFlag(TcpEvents.Writable);
        h.SendOne().Should().Be(SendTemplate);
        h.Connection.EffectiveMss.Should().Be(1240); // min(1460, 1240)
        h.Connection.Rtt.SmoothedRtt.Should().Be(Ms(30)); // the SYN was timed
        h.Connection.NextDeadline.Should().Be(long.MaxValue);
    }

    [Fact]
    public void SynSent_SynAckWithoutMss_UsesIpv4Default()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(SynAck with { MaxSegmentSize = null });
        h.Connection.EffectiveMss.Should().Be(536);
    }

    [Fact]
    public void SynSent_SynAckWithTinyMss_ClampedTo48()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(SynAck with { MaxSegmentSize = 1 });
        h.Connection.EffectiveMss.Should().Be(48);
    }

    [Fact]
    public void SynSent_SynAckWithBadAck_SendsReset()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(SynAck with { AcknowledgmentNumber = LocalSeq + 5 });
        h.Connection.State.Should().Be(TcpState.SynSent);
        h.SendOne().Should().Be(SendTemplate with
        {
            SequenceNumber = LocalSeq + 5,
            AcknowledgmentNumber = default,
            Flags = TcpFlags.Rst,
            Window = 0,
        });
    }

    [Fact]
    public void SynSent_RstWithAcceptableAck_IsRefused()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(RecvTemplate with { SequenceNumber = default, Flags = TcpFlags.Rst | TcpFlags.Ack });
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.Refused);
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.Closed);
        h.SendNothing();
    }

    [Fact]
    public void SynSent_RstWithoutAck_IsIgnored()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Rst });
        h.Connection.State.Should().Be(TcpState.SynSent);
        h.SendNothing();
    }

    [Fact]
    public void SynSent_RstWithBadAck_IsIgnored()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 9, Flags = TcpFlags.Rst | TcpFlags.Ack });
        h.Connection.State.Should().Be(TcpState.SynSent);
        h.SendNothing();
    }

    [Fact]
    public void SynSent_AckWithoutSyn_IsDropped()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(RecvTemplate);
        h.Connection.State.Should().Be(TcpState.SynSent);
        h.SendNothing();
    }

    [Fact]
    public void SynSent_Syn_SimultaneousOpen()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(RemoteSyn);
        h.Connection.State.Should().Be(TcpState.SynReceived);
        var synAck = h.SendOne();
        synAck.Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);
        synAck.SequenceNumber.Should().Be(LocalSeq);
        synAck.AcknowledgmentNumber.Should().Be(RemoteSeq + 1);

        // The peer's SYN-ACK for our SYN completes it.
        h.Recv(SynAck);
        h.Connection.State.Should().Be(TcpState.Established);
        h.Connection.Error.Should().Be(TcpError.None);
    }

    [Fact]
    public void SynSent_SimultaneousOpen_Rst_IsRefused()
    {
        var h = SynSent();
        h.SendOne();
        h.Recv(RemoteSyn);
        h.SendOne();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Rst });
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.Refused);
    }

    [Fact]
    public void SynSent_Timeout_RetransmitsWithBackoff_ThenTimesOut()
    {
        var h = SynSent();
        h.SendOne();
        var gaps = new List<long>();
        while (h.Connection.State == TcpState.SynSent)
        {
            gaps.Add(h.AdvanceToDeadline() / TimeSpan.TicksPerSecond);
            if (h.Connection.State == TcpState.SynSent)
            {
                var syn = h.SendOne();
                syn.Flags.Should().Be(TcpFlags.Syn);
                syn.SequenceNumber.Should().Be(LocalSeq);
            }
        }

        gaps.Should().Equal(1, 2, 4, 8, 16, 32, 64); // 6 retries, then give up: 127 s like Linux
        h.Connection.Error.Should().Be(TcpError.TimedOut);
        h.Connection.Counters.Retransmissions.Should().Be(6);
        h.SendNothing();
    }

    [Fact]
    public void SynSent_AfterSynRetransmission_FirstDataRtoIsThreeSeconds()
    {
        var h = SynSent();
        h.SendOne();
        h.AdvanceToDeadline();
        h.SendOne();
        h.Recv(SynAck); // no valid sample (Karn), SYN was resent ⇒ RFC 6298 §5.7
        h.SendOne();
        h.Write(10);
        h.SendOne();
        (h.Connection.NextDeadline - h.Now).Should().Be(TimeSpan.FromSeconds(3).Ticks);
    }

    [Fact]
    public void SynSent_WriteBeforeEstablished_SentAfterHandshake()
    {
        var h = SynSent();
        h.Write(5).Should().Be(5);
        h.SendOne().Flags.Should().Be(TcpFlags.Syn);
        h.Recv(SynAck);
        var (header, payload) = h.SendOneWithPayload();
        header.Flags.Should().Be(TcpFlags.Ack | TcpFlags.Psh);
        payload.Should().HaveCount(5);
    }

    [Fact]
    public void Accept_EmitsSynAckWithNegotiatedOptions()
    {
        var syn = RemoteSyn with { WindowScale = 9, SackPermitted = true, Timestamps = new TcpTimestamps(777, 0) };
        var h = SynReceived(TcpConfig.Default, syn);
        var synAck = h.SendOne();
        synAck.Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);
        synAck.SequenceNumber.Should().Be(LocalSeq);
        synAck.AcknowledgmentNumber.Should().Be(RemoteSeq + 1);
        synAck.MaxSegmentSize.Should().Be(1240);
        synAck.WindowScale.Should().Be(7);
        synAck.SackPermitted.Should().BeTrue();
        synAck.Timestamps!.Value.EchoReply.Should().Be(777);
        synAck.Window.Should().Be(65535);
    }

    [Fact]
    public void Accept_SynWithoutOptions_SynAckOffersOnlyMss()
    {
        var h = SynReceived(TcpConfig.Default, RemoteSyn with { MaxSegmentSize = null });
        var synAck = h.SendOne();
        synAck.MaxSegmentSize.Should().Be(1240);
        synAck.WindowScale.Should().BeNull();
        synAck.SackPermitted.Should().BeFalse();
        synAck.Timestamps.Should().BeNull();
        h.Connection.EffectiveMss.Should().Be(536);
    }

    [Fact]
    public void Accept_RejectsNonSyn()
    {
        var act = () => TcpConnection.Accept(Endpoints, Plain, LocalSeq, RecvTemplate, 0);
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void SynReceived_Ack_MovesToEstablished()
    {
        var h = SynReceived();
        h.SendOne();
        h.Recv(RecvTemplate);
        h.Connection.State.Should().Be(TcpState.Established);
        h.Connection.TakeEvents().Should().HaveFlag(TcpEvents.Connected);
        h.Connection.SendWindow.Should().Be(64000);
        h.SendNothing();
    }

    [Fact]
    public void SynReceived_AckWithData_DeliversData()
    {
        var h = SynReceived();
        h.SendOne();
        h.Recv(RecvTemplate, "hello");
        h.Connection.State.Should().Be(TcpState.Established);
        h.Connection.ReadableBytes.Should().Be(5);
    }

    [Fact]
    public void SynReceived_BadAck_SendsReset()
    {
        var h = SynReceived();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 100 });
        h.Connection.State.Should().Be(TcpState.SynReceived);
        h.SendOne().Should().Be(SendTemplate with
        {
            SequenceNumber = LocalSeq + 100,
            AcknowledgmentNumber = default,
            Flags = TcpFlags.Rst,
            Window = 0,
        });
    }

    [Fact]
    public void SynReceived_Rst_Closes()
    {
        var h = SynReceived();
        h.SendOne();
        h.Recv(RecvTemplate with { Flags = TcpFlags.Rst });
        h.Connection.State.Should().Be(TcpState.Closed);
        h.Connection.Error.Should().Be(TcpError.Reset);
        h.SendNothing();
    }

    [Fact]
    public void SynReceived_DuplicateSyn_ResendsSynAck()
    {
        var h = SynReceived();
        h.SendOne();
        h.Recv(RemoteSyn);
        var again = h.SendOne();
        again.Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);
        again.SequenceNumber.Should().Be(LocalSeq);
    }

    [Fact]
    public void SynReceived_Timeout_ResendsSynAck_ThenGivesUp()
    {
        var h = SynReceived();
        h.SendOne();
        int resent = 0;
        while (h.Connection.State == TcpState.SynReceived)
        {
            h.AdvanceToDeadline();
            if (h.Connection.State == TcpState.SynReceived)
            {
                h.SendOne().Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);
                resent++;
            }
        }

        resent.Should().Be(5);
        h.Connection.Error.Should().Be(TcpError.TimedOut);
    }

    [Fact]
    public void ResetReply_ForSegmentWithAck_UsesItsAck()
    {
        TcpResets.TryCreateReply(RecvTemplate, 10, out var reply).Should().BeTrue();
        reply.Should().Be(new TcpHeader
        {
            SourcePort = LocalPort,
            DestinationPort = RemotePort,
            SequenceNumber = LocalSeq + 1,
            Flags = TcpFlags.Rst,
        });
    }

    [Fact]
    public void ResetReply_ForSyn_AcksSynAndData()
    {
        TcpResets.TryCreateReply(RemoteSyn with { Flags = TcpFlags.Syn | TcpFlags.Fin }, 3, out var reply).Should().BeTrue();
        reply.Flags.Should().Be(TcpFlags.Rst | TcpFlags.Ack);
        reply.SequenceNumber.Should().Be(new SeqNum(0));
        reply.AcknowledgmentNumber.Should().Be(RemoteSeq + 5);
    }

    [Fact]
    public void ResetReply_NeverForRst()
    {
        TcpResets.TryCreateReply(RecvTemplate with { Flags = TcpFlags.Rst }, 0, out _).Should().BeFalse();
    }

    [Fact]
    public void TimeWait_NewerSyn_CanReopen()
    {
        var h = Established();
        h.Connection.Shutdown();
        h.SendOne();
        h.Recv(RecvTemplate with { AcknowledgmentNumber = LocalSeq + 2, Flags = TcpFlags.Ack | TcpFlags.Fin });
        h.Connection.State.Should().Be(TcpState.TimeWait);
        h.Connection.CanReopenWith(RemoteSyn with { SequenceNumber = RemoteSeq + 100_000 }).Should().BeTrue();
        h.Connection.CanReopenWith(RemoteSyn).Should().BeFalse();
    }
}
