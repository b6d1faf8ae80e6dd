namespace TsNet.Netstack.Tcp;

/// <summary>
/// Settings of a TCP connection (read when it is created). Defaults follow the "suggested for this library" column of
/// docs/protocols/tcp-essentials.md §0: mostly Linux's values, Nagle off, keepalive off.
/// </summary>
internal sealed record TcpConfig
{
    /// <summary>Shared default settings.</summary>
    public static TcpConfig Default { get; } = new();

    /// <summary>IP MTU of the tunnel: the MSS we advertise and send is MTU − 40 (IPv4) or MTU − 60 (IPv6).</summary>
    public int Mtu { get; init; } = 1280;

    /// <summary>Initial send buffer (64 KiB, design §5).</summary>
    public int SendBufferSize { get; init; } = 64 * 1024;

    /// <summary>Largest send buffer autotuning may reach (4 MiB, like gVisor's maximum).</summary>
    public int MaxSendBufferSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Initial receive buffer (64 KiB, design §5).</summary>
    public int ReceiveBufferSize { get; init; } = 64 * 1024;

    /// <summary>Largest receive buffer; the window scale we offer is chosen so this fits (4 MiB ⇒ shift 7, like Linux).</summary>
    public int MaxReceiveBufferSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Send small segments at once (Nagle off). Default true: proxied traffic stalls with Nagle plus delayed ACK.</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>Offer RFC 7323 timestamps (on: RTT samples on every ACK and PAWS, as Linux).</summary>
    public bool Timestamps { get; init; } = true;

    /// <summary>Offer SACK (RFC 2018); we generate SACK blocks for out-of-order data.</summary>
    public bool Sack { get; init; } = true;

    /// <summary>
    /// RACK-TLP loss detection (RFC 8985) when SACK is negotiated: losses by send time with a reordering window instead
    /// of three duplicate ACKs, and tail loss probes. Off: RFC 6675 DupThresh detection only.
    /// </summary>
    public bool RackTlp { get; init; } = true;

    /// <summary>Offer window scaling (RFC 7323); without it the window is at most 64 KiB.</summary>
    public bool WindowScaling { get; init; } = true;

    /// <summary>RTO before any RTT sample (RFC 6298: 1 s).</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Lower bound of the RTO: 200 ms like Linux and gVisor (RFC 6298 says 1 s, which stalls LAN flows).</summary>
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound of the RTO and of its backoff (120 s, Linux TCP_RTO_MAX).</summary>
    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>SYN retransmissions before connect fails (Linux tcp_syn_retries = 6 ⇒ ~127 s).</summary>
    public int SynRetries { get; init; } = 6;

    /// <summary>SYN-ACK retransmissions before a passive open gives up (Linux tcp_synack_retries = 5).</summary>
    public int SynAckRetries { get; init; } = 5;

    /// <summary>Data retransmissions before the connection is aborted (Linux tcp_retries2 = 15).</summary>
    public int DataRetries { get; init; } = 15;

    /// <summary>Longest wait before ACKing in-order data (≤ 40 ms; Linux's minimum delayed-ACK time).</summary>
    public TimeSpan DelayedAckTimeout { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Send keepalive probes on an idle connection (off by default, as everywhere).</summary>
    public bool KeepAlive { get; init; }

    /// <summary>Idle time before the first keepalive probe (7200 s, RFC 1122 / Linux).</summary>
    public TimeSpan KeepAliveIdle { get; init; } = TimeSpan.FromSeconds(7200);

    /// <summary>Time between unanswered keepalive probes (75 s, Linux).</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(75);

    /// <summary>Unanswered keepalive probes before the connection is aborted (9, Linux).</summary>
    public int KeepAliveCount { get; init; } = 9;

    /// <summary>TIME-WAIT duration (60 s, Linux TCP_TIMEWAIT_LEN).</summary>
    public TimeSpan TimeWaitTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>FIN-WAIT-2 limit once the application closed the connection (60 s, Linux tcp_fin_timeout).</summary>
    public TimeSpan FinWait2Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest interval between zero-window probes (60 s; the interval starts at the RTO and doubles).</summary>
    public TimeSpan MaxPersistInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Congestion control: CUBIC (RFC 9438, Linux's default) or NewReno (RFC 5681/6582).</summary>
    public CongestionControlAlgorithm CongestionControl { get; init; } = CongestionControlAlgorithm.Cubic;

    /// <summary>Initial congestion window in segments (10, RFC 6928).</summary>
    public int InitialCongestionWindowSegments { get; init; } = 10;

    /// <summary>Duplicate ACKs that trigger fast retransmit (3, RFC 5681).</summary>
    public int DuplicateAckThreshold { get; init; } = 3;

    /// <summary>
    /// Out-of-order ranges (holes) the reassembler keeps; a segment needing more is dropped and counted. 128: a burst
    /// of scattered loss in a multi-MiB window at hundreds of Mbit/s (seen from tailscaled's TCP) needs more than 32,
    /// and refusing what arrives past the bound makes the sender resend it too, so recovery crawls.
    /// </summary>
    public int MaxReassemblyRanges { get; init; } = 128;

    /// <summary>Challenge ACKs (RFC 5961) a connection sends per second at most, so they cannot be used as an amplifier.</summary>
    public int MaxChallengeAcksPerSecond { get; init; } = 10;

    /// <summary>Checks the values; throws <see cref="ArgumentOutOfRangeException"/> on a bad one.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Mtu, 576, nameof(Mtu));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Mtu, ushort.MaxValue, nameof(Mtu));
        ArgumentOutOfRangeException.ThrowIfLessThan(SendBufferSize, 1, nameof(SendBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendBufferSize, SendBufferSize, nameof(MaxSendBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBufferSize, 1, nameof(ReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReceiveBufferSize, ReceiveBufferSize, nameof(MaxReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxReceiveBufferSize, 1 << 30, nameof(MaxReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MinRto, TimeSpan.Zero, nameof(MinRto));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRto, MinRto, nameof(MaxRto));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialRto, MinRto, nameof(InitialRto));
        ArgumentOutOfRangeException.ThrowIfNegative(SynRetries, nameof(SynRetries));
        ArgumentOutOfRangeException.ThrowIfNegative(SynAckRetries, nameof(SynAckRetries));
        ArgumentOutOfRangeException.ThrowIfNegative(DataRetries, nameof(DataRetries));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DelayedAckTimeout, TimeSpan.Zero, nameof(DelayedAckTimeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(DelayedAckTimeout, TimeSpan.FromMilliseconds(500), nameof(DelayedAckTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAliveIdle, TimeSpan.Zero, nameof(KeepAliveIdle));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAliveInterval, TimeSpan.Zero, nameof(KeepAliveInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveCount, 1, nameof(KeepAliveCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(TimeWaitTimeout, TimeSpan.Zero, nameof(TimeWaitTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(FinWait2Timeout, TimeSpan.Zero, nameof(FinWait2Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPersistInterval, MinRto, nameof(MaxPersistInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialCongestionWindowSegments, 1, nameof(InitialCongestionWindowSegments));
        if (!Enum.IsDefined(CongestionControl))
        {
            throw new ArgumentOutOfRangeException(nameof(CongestionControl), CongestionControl, "Unknown congestion control algorithm.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(DuplicateAckThreshold, 1, nameof(DuplicateAckThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReassemblyRanges, 1, nameof(MaxReassemblyRanges));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxChallengeAcksPerSecond, 1, nameof(MaxChallengeAcksPerSecond));
    }
}
