using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// One TCP connection (a TCB, RFC 9293 §3.3.1) as a sans-IO state machine. The owner feeds it segments
/// (<see cref="OnSegment"/>), time (<see cref="Poll"/>, <see cref="NextDeadline"/>) and application calls
/// (<see cref="Write"/>, <see cref="Read"/>, <see cref="Shutdown"/>, <see cref="Close"/>, <see cref="Abort"/>), and
/// pulls segments to transmit with <see cref="TryGetSegment"/> until it returns false. Every method takes
/// <c>now</c> in <see cref="TimeSpan"/> ticks from a monotonic clock. Single-threaded; no allocation per segment.
/// </summary>
/// <remarks>
/// Partial files by concern: <c>TcpConnection.Input.cs</c> (SEGMENT ARRIVES), <c>.Acknowledgment.cs</c> (the send
/// side's ACK processing, RTT and NewReno / RFC 6675 loss recovery), <c>.LossDetection.cs</c> (RACK-TLP),
/// <c>.Undo.cs</c> (D-SACK undo), <c>.Output.cs</c> (what to send next, windows, options), <c>.Timers.cs</c>
/// (retransmission, delayed ACK, persist, keepalive, TIME-WAIT), <c>.Autotuning.cs</c> (buffer limits).
/// </remarks>
internal sealed partial class TcpConnection
{
    /// <summary>MSS assumed when an IPv4 peer sends no MSS option (RFC 9293 §3.7.1).</summary>
    public const int DefaultIpv4Mss = 536;

    /// <summary>MSS assumed when an IPv6 peer sends no MSS option (RFC 8200 §8.3: 1280 − 60).</summary>
    public const int DefaultIpv6Mss = 1220;

    /// <summary>Smallest peer MSS we accept; smaller values are raised to it (Linux tcp_min_snd_mss).</summary>
    public const int MinPeerMss = 48;

    /// <summary>SACKed ranges the sender tracks (holes in flight at once); more are ignored until later ACKs repeat them.</summary>
    private const int ScoreboardRanges = 32;

    private const int Ipv4HeadersLength = 20 + TcpHeader.MinLength;
    private const int Ipv6HeadersLength = 40 + TcpHeader.MinLength;

    /// <summary>RTO for the first data when the SYN was retransmitted and no RTT sample exists (RFC 6298 §5.7).</summary>
    private static readonly long FallbackRto = TimeSpan.FromSeconds(3).Ticks;

    /// <summary>Timer granularity term G of RFC 6298 (our timestamp clock ticks in milliseconds).</summary>
    private static readonly long ClockGranularity = TimeSpan.TicksPerMillisecond;

    private readonly TcpConfig _config;
    private SendBuffer _sendBuffer;
    private ReceiveBuffer _receiveBuffer;
    private Reassembler _reassembler;
    private SackScoreboard _scoreboard;
    private RttEstimator _rtt;
    private RetransmitTimer _retransmitTimer;
    private readonly bool _passive;
    private readonly int _ourMss;
    private readonly uint _timestampOffset;

    // The helpers above are structs held inline (not objects): each object would cost a header and a reference on
    // every connection, idle ones included.
    private TcpCounters _counters;
    private ICongestionControl _congestion;
    private TcpEvents _events;

    private TcpConnection(in TcpEndpoints endpoints, TcpConfig config, SeqNum iss, uint timestampOffset, bool passive, long now)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        Endpoints = endpoints;
        _passive = passive;
        _timestampOffset = timestampOffset;
        _ourMss = config.Mtu - (endpoints.IsIpv6 ? Ipv6HeadersLength : Ipv4HeadersLength);
        _sendBuffer = new SendBuffer(config.SendBufferSize, config.MaxSendBufferSize);
        _receiveBuffer = new ReceiveBuffer(config.ReceiveBufferSize, config.MaxReceiveBufferSize);
        _reassembler = new Reassembler(config.MaxReassemblyRanges);
        _scoreboard = new SackScoreboard(ScoreboardRanges);
        _rack = new RackLossDetector(MaxSentSegments, timestampOffset);
        _rtt = new RttEstimator(config.InitialRto.Ticks, config.MinRto.Ticks, config.MaxRto.Ticks, ClockGranularity);
        _retransmitTimer = new RetransmitTimer(config.MaxRto.Ticks);
        _ourWindowShift = config.WindowScaling ? WindowShiftFor(config.MaxReceiveBufferSize) : (byte)0;

        _iss = iss;
        _sendUnacknowledged = iss;
        _sendNext = iss;
        _sendMax = iss;
        _bufferSeq = iss + 1;
        _recover = iss;
        _sendMssBase = endpoints.IsIpv6 ? DefaultIpv6Mss : DefaultIpv4Mss;
        _congestion = CreateCongestionControl();
        _lastReceiveTime = now;
        _lastSendTime = now;
    }

    /// <summary>The 4-tuple.</summary>
    public TcpEndpoints Endpoints { get; }

    /// <summary>Current state.</summary>
    public TcpState State { get; private set; }

    /// <summary>Why the connection closed (<see cref="TcpError.None"/> while open or after a normal close).</summary>
    public TcpError Error { get; private set; }

    /// <summary>Statistics and drop counts.</summary>
    public ref TcpCounters Counters => ref _counters;

    /// <summary>In-order bytes the application can read now.</summary>
    public int ReadableBytes => _receiveBuffer.Count;

    /// <summary>Bytes <see cref="Write"/> would accept now (0 once the send side is shut or the connection closed).</summary>
    public int WritableBytes => IsWriteClosed ? 0 : _sendBuffer.Free;

    /// <summary>True once the peer's FIN arrived (or the connection closed) and every byte before it was read.</summary>
    public bool IsReadClosed => (_finReceived || State == TcpState.Closed) && _receiveBuffer.Count == 0;

    /// <summary>True once <see cref="Shutdown"/> was called or the connection closed: writes are refused.</summary>
    public bool IsWriteClosed => _finQueued || State == TcpState.Closed || State == TcpState.TimeWait;

    /// <summary>True once the connection is CLOSED and has nothing left to send (a final RST went out): the owner may
    /// drop it from its table.</summary>
    public bool IsFinished => State == TcpState.Closed && !_resetPending;

    /// <summary>Send size for a full data segment: min(peer MSS, our MTU − headers) − per-segment options (timestamps).</summary>
    public int EffectiveMss => _sendMssBase - (_timestampsEnabled ? TcpHeader.TimestampsAlignedLength : 0);

    /// <summary>Bytes written but not yet acknowledged (includes unsent bytes).</summary>
    public int UnacknowledgedBytes => _sendBuffer.Count;

    /// <summary>
    /// Active open (RFC 9293 §3.10.1): a connection in SYN-SENT whose SYN <see cref="TryGetSegment"/> emits next.
    /// <paramref name="iss"/> comes from <see cref="InitialSequenceNumber.Generate"/>.
    /// </summary>
    public static TcpConnection Connect(in TcpEndpoints endpoints, TcpConfig config, SeqNum iss, long now, uint timestampOffset = 0) =>
        new(endpoints, config, iss, timestampOffset, passive: false, now) { State = TcpState.SynSent };

    /// <summary>
    /// Passive open from a SYN the integration matched to a listener (the LISTEN processing of RFC 9293 §3.10.7.2):
    /// a connection in SYN-RECEIVED whose SYN-ACK <see cref="TryGetSegment"/> emits next. The SYN must carry SYN and
    /// neither ACK nor RST (otherwise this throws: the listener answers those itself). Data on the SYN is not kept.
    /// </summary>
    public static TcpConnection Accept(in TcpEndpoints endpoints, TcpConfig config, SeqNum iss, in TcpHeader syn, long now, uint timestampOffset = 0)
    {
        if (!syn.Has(TcpFlags.Syn) || syn.Has(TcpFlags.Ack) || syn.Has(TcpFlags.Rst))
        {
            throw new ArgumentException("Accept needs a SYN without ACK or RST.", nameof(syn));
        }

        var connection = new TcpConnection(endpoints, config, iss, timestampOffset, passive: true, now) { State = TcpState.SynReceived };
        connection.Synchronize(syn, now);
        connection._sendWindow = syn.Window;
        connection._sendWl1 = syn.SequenceNumber;
        connection._sendWl2 = iss;
        connection._maxSendWindow = syn.Window;
        return connection;
    }

    /// <summary>
    /// True when <paramref name="syn"/> may reopen this connection from TIME-WAIT (RFC 9293 §3.10.7.4 note, RFC 6191):
    /// a SYN without ACK whose sequence number is above RCV.NXT, or whose timestamp is newer than TS.Recent. The
    /// integration then forgets this connection and <see cref="Accept"/>s a new one.
    /// </summary>
    public bool CanReopenWith(in TcpHeader syn)
    {
        if (State != TcpState.TimeWait || !syn.Has(TcpFlags.Syn) || syn.Has(TcpFlags.Ack) || syn.Has(TcpFlags.Rst))
        {
            return false;
        }

        if (_timestampsEnabled && syn.Timestamps is TcpTimestamps ts)
        {
            return unchecked((int)(ts.Value - _tsRecent)) > 0;
        }

        return syn.SequenceNumber > _receiveNext;
    }

    /// <summary>Returns and clears the accumulated <see cref="TcpEvents"/>.</summary>
    public TcpEvents TakeEvents()
    {
        var events = _events;
        _events = TcpEvents.None;
        return events;
    }

    /// <summary>
    /// Copies as much of <paramref name="data"/> into the send buffer as fits and returns the count (0 when full —
    /// wait for <see cref="TcpEvents.Writable"/> — or when <see cref="IsWriteClosed"/>). Bytes written before the
    /// handshake completes are sent after it.
    /// </summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        if (IsWriteClosed)
        {
            return 0;
        }

        return _sendBuffer.Write(data);
    }

    /// <summary>
    /// Copies in-order received bytes into <paramref name="destination"/> and returns the count (0 when none; check
    /// <see cref="IsReadClosed"/>). Freeing buffer space may schedule a window update.
    /// </summary>
    public int Read(Span<byte> destination)
    {
        int read = _receiveBuffer.Read(destination);
        if (read > 0 && IsReceiving && ShouldSendWindowUpdate())
        {
            AckNow();
        }

        ReleaseIdleReceiveStorage();
        return read;
    }

    /// <summary>
    /// Half-close (RFC 9293 CLOSE): a FIN follows the buffered bytes; reading continues. Before the handshake
    /// completes the FIN waits for it.
    /// </summary>
    public void Shutdown()
    {
        switch (State)
        {
            case TcpState.SynSent:
            case TcpState.SynReceived:
                _finQueued = true;
                break;
            case TcpState.Established:
                _finQueued = true;
                State = TcpState.FinWait1;
                break;
            case TcpState.CloseWait:
                _finQueued = true;
                State = TcpState.LastAck;
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Full close by the application: it will neither read nor write again. With unread received data this aborts
    /// (RST, as Linux does, so the peer learns its data was lost); otherwise it shuts down and, once in FIN-WAIT-2,
    /// gives up after <see cref="TcpConfig.FinWait2Timeout"/>. Data arriving after the close resets the connection.
    /// </summary>
    public void Close(long now)
    {
        if (State == TcpState.Closed)
        {
            return;
        }

        if (_receiveBuffer.Count > 0 || State == TcpState.SynSent)
        {
            Abort();
            return;
        }

        _closedByApplication = true;
        Shutdown();
        if (State == TcpState.FinWait2)
        {
            _closeDeadline = now + _config.FinWait2Timeout.Ticks;
        }
    }

    /// <summary>Abortive close (RFC 9293 ABORT): sends a RST in synchronized states and goes to CLOSED with <see cref="TcpError.Aborted"/>.</summary>
    public void Abort()
    {
        switch (State)
        {
            case TcpState.Closed:
                return;
            case TcpState.SynReceived:
            case TcpState.Established:
            case TcpState.FinWait1:
            case TcpState.FinWait2:
            case TcpState.CloseWait:
                QueueReset(_sendMax, withAck: true); // SND.NXT as Linux keeps it (we may have gone back after a timeout)
                break;
            default:
                break; // SYN-SENT, CLOSING, LAST-ACK, TIME-WAIT: no RST (RFC 9293 §3.10.5)
        }

        EnterClosed(TcpError.Aborted);
    }

    // ---- internal state shared by the partial files -------------------------------------------------------------

    // True while data may still arrive (states in which the receive window matters).
    private bool IsReceiving => State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.SynReceived;

    // True in states where our data and FIN are (re)transmitted.
    private bool CanSendData => State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1
        or TcpState.Closing or TcpState.LastAck;

    private void EnterClosed(TcpError error)
    {
        State = TcpState.Closed;
        if (Error == TcpError.None)
        {
            Error = error;
        }

        _retransmitTimer.Stop();
        _delayedAckDeadline = long.MaxValue;
        _persistDeadline = long.MaxValue;
        _closeDeadline = long.MaxValue;
        _ackNow = 0;
        _probePending = false;
        _fastRetransmitPending = false;
        _reassembler.Clear();
        _scoreboard.Clear();
        _rack.Clear();
        ResetLossDetectionTimers();
        _sendBuffer.Clear(); // nothing will be (re)sent: give the array back
        ReleaseIdleReceiveStorage();
        _events |= TcpEvents.Closed | TcpEvents.Writable | TcpEvents.ReadClosed;
    }

    /// <summary>Returns the receive array once everything was read and no out-of-order bytes are held.</summary>
    private void ReleaseIdleReceiveStorage()
    {
        if (_receiveBuffer.Count == 0 && _reassembler.IsEmpty)
        {
            _receiveBuffer.ReleaseIfEmpty();
        }
    }

    private void EnterTimeWait(long now)
    {
        State = TcpState.TimeWait;
        _retransmitTimer.Stop();
        ResetLossDetectionTimers();
        _persistDeadline = long.MaxValue;
        _delayedAckDeadline = long.MaxValue;
        _closeDeadline = now + _config.TimeWaitTimeout.Ticks;
    }

    private void EnterEstablished(long now)
    {
        State = TcpState.Established;
        _events |= TcpEvents.Connected | TcpEvents.Writable;
        _retransmitTimer.Stop();
        _retransmitTimer.ResetRetries();
        _retransmitTimer.ResetBackoff();
        if (_synRetransmitted && !_rtt.HasSample)
        {
            _rtt.Reset(FallbackRto);
        }

        _congestion = CreateCongestionControl();
        _lastSendTime = now;
        if (_finQueued)
        {
            State = TcpState.FinWait1;
        }
    }

    private ICongestionControl CreateCongestionControl() => _config.CongestionControl switch
    {
        CongestionControlAlgorithm.NewReno => new NewRenoCongestionControl(_config.InitialCongestionWindowSegments, EffectiveMss),
        _ => new CubicCongestionControl(_config.InitialCongestionWindowSegments, EffectiveMss),
    };

    private void QueueReset(SeqNum seq, bool withAck)
    {
        _resetPending = true;
        _resetSeq = seq;
        _resetWithAck = withAck;
    }

    /// <summary>Smallest shift with 0xFFFF « shift ≥ the buffer (gVisor FindWndScale; 4 MiB ⇒ 7), at most 14.</summary>
    internal static byte WindowShiftFor(int maxBuffer)
    {
        byte shift = 0;
        while (shift < TcpHeader.MaxWindowScale && ((long)ushort.MaxValue << shift) < maxBuffer)
        {
            shift++;
        }

        return shift;
    }
}
