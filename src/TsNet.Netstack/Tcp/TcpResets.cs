using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// Reset generation for a segment that matches no connection (RFC 9293 §3.10.7.1, "If the state is CLOSED"):
/// with ACK ⇒ <c>&lt;SEQ=SEG.ACK&gt;&lt;CTL=RST&gt;</c>; without ⇒ <c>&lt;SEQ=0&gt;&lt;ACK=SEG.SEQ+SEG.LEN&gt;&lt;CTL=RST,ACK&gt;</c>
/// (SYN and FIN count in SEG.LEN). A RST is never answered. Window 0, no options.
/// </summary>
internal static class TcpResets
{
    /// <summary>Builds the reply to <paramref name="incoming"/>; false when none is due (it was a RST).</summary>
    public static bool TryCreateReply(in TcpHeader incoming, int payloadLength, out TcpHeader reply)
    {
        reply = default;
        if (incoming.Has(TcpFlags.Rst))
        {
            return false;
        }

        reply = incoming.Has(TcpFlags.Ack)
            ? new TcpHeader
            {
                SourcePort = incoming.DestinationPort,
                DestinationPort = incoming.SourcePort,
                SequenceNumber = incoming.AcknowledgmentNumber,
                Flags = TcpFlags.Rst,
            }
            : new TcpHeader
            {
                SourcePort = incoming.DestinationPort,
                DestinationPort = incoming.SourcePort,
                SequenceNumber = new SeqNum(0),
                AcknowledgmentNumber = incoming.SequenceNumber + incoming.SegmentLength(payloadLength),
                Flags = TcpFlags.Rst | TcpFlags.Ack,
            };
        return true;
    }
}
