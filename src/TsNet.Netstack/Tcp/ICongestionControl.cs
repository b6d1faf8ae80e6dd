namespace TsNet.Netstack.Tcp;

/// <summary>
/// The congestion window arithmetic of a sender (RFC 5681 vocabulary). The connection owns loss detection (duplicate
/// ACK counting, the recovery point, what to retransmit) and tells the algorithm what happened; the algorithm owns
/// cwnd and ssthresh. All sizes are bytes; <c>mss</c> is the sender's current SMSS.
/// </summary>
internal interface ICongestionControl
{
    /// <summary>Congestion window (cwnd).</summary>
    int Window { get; }

    /// <summary>Slow-start threshold (ssthresh); <see cref="int.MaxValue"/> until the first loss.</summary>
    int SlowStartThreshold { get; }

    /// <summary>New data was cumulatively acknowledged outside recovery (while cwnd limits the sender);
    /// <paramref name="smoothedRtt"/> is SRTT in ticks (0 before a sample).</summary>
    void OnAck(int bytesAcked, int mss, long now, long smoothedRtt);

    /// <summary>Loss detected by duplicate ACKs (or SACK): enter fast recovery.</summary>
    void OnEnterRecovery(int flightSize, int mss, long now);

    /// <summary>Loss detected with SACK information: enter RFC 6675 recovery (no window inflation; the sender
    /// counts <c>pipe</c> instead).</summary>
    void OnEnterSackRecovery(int flightSize, int mss, long now);

    /// <summary>A further duplicate ACK during fast recovery (a segment left the network).</summary>
    void OnDuplicateAckInRecovery(int mss);

    /// <summary>A partial ACK during recovery acknowledged <paramref name="bytesAcked"/>.</summary>
    void OnPartialAck(int bytesAcked, int mss);

    /// <summary>The ACK covering the recovery point arrived.</summary>
    void OnExitRecovery(int flightSize, int mss);

    /// <summary>The retransmission timer expired. <paramref name="firstExpiry"/> is false for repeated expiries of
    /// the same segment, which must not shrink ssthresh again.</summary>
    void OnRetransmitTimeout(int flightSize, int mss, bool firstExpiry);

    /// <summary>A loss was repaired without fast recovery (a tail loss probe, RFC 8985 §7.4): reduce once, as
    /// recovery would have (ssthresh from cwnd, cwnd = ssthresh).</summary>
    void OnLossRepaired(int mss, long now);

    /// <summary>The last reduction was unnecessary (D-SACKs showed no loss): restore the window and ssthresh it
    /// replaced (at least), and whatever else the reduction changed.</summary>
    void OnUndo(int priorWindow, int priorSlowStartThreshold);

    /// <summary>The sender was idle longer than an RTO (RFC 5681 §4.1 restart window).</summary>
    void OnIdleRestart(int mss);
}
