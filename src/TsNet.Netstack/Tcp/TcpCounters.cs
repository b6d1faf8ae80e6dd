namespace TsNet.Netstack.Tcp;

/// <summary>Per-connection statistics and drop counts (the integration may sum them per node).</summary>
internal struct TcpCounters
{
    /// <summary>Segments handed to <see cref="TcpConnection.OnSegment"/>.</summary>
    public long SegmentsReceived { get; internal set; }

    /// <summary>Segments produced by <see cref="TcpConnection.TryGetSegment"/>.</summary>
    public long SegmentsSent { get; internal set; }

    /// <summary>Segments sent again (timeouts, fast retransmit, SYN retries).</summary>
    public long Retransmissions { get; internal set; }

    /// <summary>Retransmission timer expiries.</summary>
    public long RetransmitTimeouts { get; internal set; }

    /// <summary>Entries into fast recovery after duplicate ACKs.</summary>
    public long FastRetransmits { get; internal set; }

    /// <summary>Data segments that arrived above RCV.NXT and were stored for reassembly.</summary>
    public long OutOfOrderSegments { get; internal set; }

    /// <summary>Out-of-order segments dropped because the reassembler's bound on holes was reached.</summary>
    public long ReassemblyDrops { get; internal set; }

    /// <summary>Segments that carried only bytes we already had.</summary>
    public long DuplicateSegments { get; internal set; }

    /// <summary>Segments outside the receive window (answered with an ACK unless RST).</summary>
    public long UnacceptableSegments { get; internal set; }

    /// <summary>Segments dropped by PAWS (RFC 7323 §5): an older timestamp than TS.Recent.</summary>
    public long PawsDrops { get; internal set; }

    /// <summary>Challenge ACKs sent (RFC 5961) for in-window RST or SYN.</summary>
    public long ChallengeAcks { get; internal set; }

    /// <summary>Segments dropped for an unacceptable acknowledgment number.</summary>
    public long BadAckDrops { get; internal set; }

    /// <summary>ACKs whose first SACK block reported duplicate data (RFC 2883): an unnecessary retransmission, or a duplicating network.</summary>
    public long DsacksReceived { get; internal set; }

    /// <summary>Window reductions undone because D-SACKs showed every retransmission of the episode was unnecessary.</summary>
    public long UndoneReductions { get; internal set; }

    /// <summary>Tail loss probes sent (RFC 8985 §7).</summary>
    public long TailLossProbes { get; internal set; }

    /// <summary>Tail loss probes that repaired a loss (the ACK went beyond the probe without a D-SACK).</summary>
    public long TailLossProbeRecoveries { get; internal set; }

    /// <summary>Times the segment size was lowered after an ICMP path-MTU message.</summary>
    public long PathMtuReductions { get; internal set; }
}
