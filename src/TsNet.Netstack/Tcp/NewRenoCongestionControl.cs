namespace TsNet.Netstack.Tcp;

/// <summary>
/// Reno/NewReno window arithmetic (RFC 5681 §3, RFC 6582 §3.2): slow start adds min(acked, SMSS) per ACK (appropriate
/// byte counting, L = 1); congestion avoidance adds SMSS·SMSS/cwnd per ACK; fast recovery sets
/// ssthresh = max(FlightSize/2, 2·SMSS) and cwnd = ssthresh + 3·SMSS, inflates by SMSS per duplicate ACK, deflates by
/// the bytes a partial ACK covers (adding back one SMSS when that was at least SMSS) and leaves with
/// cwnd = min(ssthresh, FlightSize + SMSS). A timeout sets cwnd = 1·SMSS.
/// </summary>
internal sealed class NewRenoCongestionControl : ICongestionControl
{
    private readonly int _initialWindowSegments;

    // Fractional congestion-avoidance growth: bytes accumulated until they make a whole byte of cwnd.
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
    public void OnAck(int bytesAcked, int mss, long now)
    {
        if (Window < SlowStartThreshold)
        {
            Window = SaturatingAdd(Window, Math.Min(bytesAcked, mss));
            return;
        }

        // cwnd += SMSS*SMSS/cwnd, kept exact by carrying the remainder.
        _avoidanceCredit += (long)mss * mss;
        int increase = (int)(_avoidanceCredit / Window);
        _avoidanceCredit -= (long)increase * Window;
        Window = SaturatingAdd(Window, increase);
    }

    /// <inheritdoc/>
    public void OnEnterRecovery(int flightSize, int mss, long now)
    {
        SlowStartThreshold = Math.Max(flightSize / 2, 2 * mss);
        Window = SlowStartThreshold + (3 * mss);
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
    public void OnIdleRestart(int mss) => Window = Math.Min(Window, _initialWindowSegments * mss);

    private static int SaturatingAdd(int a, int b) => (int)Math.Min((long)a + b, int.MaxValue);
}
