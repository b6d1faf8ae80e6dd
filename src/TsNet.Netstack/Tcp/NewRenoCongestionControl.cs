namespace TsNet.Netstack.Tcp;

/// <summary>
/// Reno/NewReno window arithmetic (RFC 5681 §3, RFC 6582 §3.2) with byte counting (RFC 3465): slow start adds the
/// bytes each ACK covers (up to ssthresh); congestion avoidance adds one SMSS per cwnd of acknowledged bytes
/// (≈ SMSS·SMSS/cwnd per full-sized ACK). Fast recovery sets ssthresh = max(FlightSize/2, 2·SMSS) and
/// cwnd = ssthresh + 3·SMSS, inflates by SMSS per duplicate ACK, deflates by the bytes a partial ACK covers (adding back
/// one SMSS when that was at least SMSS) and leaves with cwnd = min(ssthresh, FlightSize + SMSS). A timeout sets
/// cwnd = 1·SMSS.
/// </summary>
/// <remarks>
/// Slow start counts every acknowledged byte rather than RFC 5681's min(N, SMSS) per ACK, as Linux does
/// (tcp_slow_start): a batching receiver — ours, or Linux with GRO — sends one "stretch" ACK per burst, and per-ACK
/// counting would then grow cwnd by one segment per round trip instead of doubling it.
/// </remarks>
internal sealed class NewRenoCongestionControl : ICongestionControl
{
    private readonly int _initialWindowSegments;

    // Bytes acknowledged in congestion avoidance since cwnd last grew.
    private long _avoidanceCredit;

    /// <summary>Creates the algorithm with an initial window of <paramref name="initialWindowSegments"/> × <paramref name="mss"/>.</summary>
    public NewRenoCongestionControl(int initialWindowSegments, int mss)
    {
        _initialWindowSegments = initialWindowSegments;
        Window = initialWindowSegments * mss;
    }

    /// <inheritdoc/>
    public int Window { get; private set; }

    /// <inheritdoc/>
    public int SlowStartThreshold { get; private set; } = int.MaxValue;

    /// <inheritdoc/>
    public void OnAck(int bytesAcked, int mss, long now, long smoothedRtt)
    {
        if (Window < SlowStartThreshold)
        {
            int toThreshold = SlowStartThreshold - Window;
            int growth = Math.Min(bytesAcked, toThreshold);
            Window = SaturatingAdd(Window, growth);
            bytesAcked -= growth;
            if (bytesAcked == 0)
            {
                return;
            }
        }

        // Congestion avoidance: +1 SMSS for every cwnd's worth of acknowledged bytes.
        _avoidanceCredit += bytesAcked;
        if (_avoidanceCredit >= Window)
        {
            _avoidanceCredit -= Window;
            Window = SaturatingAdd(Window, mss);
        }
    }

    /// <inheritdoc/>
    public void OnEnterRecovery(int flightSize, int mss, long now)
    {
        SlowStartThreshold = Math.Max(flightSize / 2, 2 * mss);
        Window = SlowStartThreshold + (3 * mss);
        _avoidanceCredit = 0;
    }

    /// <inheritdoc/>
    public void OnEnterSackRecovery(int flightSize, int mss, long now)
    {
        SlowStartThreshold = Math.Max(flightSize / 2, 2 * mss);
        Window = SlowStartThreshold; // RFC 6675 §5 step 4.2: cwnd = ssthresh; pipe does the accounting
        _avoidanceCredit = 0;
    }

    /// <inheritdoc/>
    public void OnDuplicateAckInRecovery(int mss) => Window = SaturatingAdd(Window, mss);

    /// <inheritdoc/>
    public void OnPartialAck(int bytesAcked, int mss)
    {
        int deflated = Window - bytesAcked;
        if (bytesAcked >= mss)
        {
            deflated += mss;
        }

        Window = Math.Max(deflated, mss);
    }

    /// <inheritdoc/>
    public void OnExitRecovery(int flightSize, int mss)
    {
        Window = Math.Max(Math.Min(SlowStartThreshold, flightSize + mss), mss);
        _avoidanceCredit = 0;
    }

    /// <inheritdoc/>
    public void OnRetransmitTimeout(int flightSize, int mss, bool firstExpiry)
    {
        if (firstExpiry)
        {
            SlowStartThreshold = Math.Max(flightSize / 2, 2 * mss);
        }

        Window = mss;
        _avoidanceCredit = 0;
    }

    /// <inheritdoc/>
    public void OnLossRepaired(int mss, long now)
    {
        SlowStartThreshold = Math.Max(Window / 2, 2 * mss);
        Window = SlowStartThreshold;
        _avoidanceCredit = 0;
    }

    /// <inheritdoc/>
    public void OnUndo(int priorWindow, int priorSlowStartThreshold)
    {
        Window = Math.Max(Window, priorWindow);
        SlowStartThreshold = Math.Max(SlowStartThreshold, priorSlowStartThreshold);
        _avoidanceCredit = 0;
    }

    /// <inheritdoc/>
    public void OnIdleRestart(int mss) => Window = Math.Min(Window, _initialWindowSegments * mss);

    private static int SaturatingAdd(int a, int b) => (int)Math.Min((long)a + b, int.MaxValue);
}
