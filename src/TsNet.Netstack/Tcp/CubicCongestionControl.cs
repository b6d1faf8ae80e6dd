namespace TsNet.Netstack.Tcp;

/// <summary>
/// CUBIC (RFC 9438): after a congestion event the window follows W_cubic(t) = C·(t − K)³ + W_max (segments, t in
/// seconds since the congestion avoidance stage began), concave below W_max and convex above it, with C = 0.4 and
/// K = ∛((W_max − cwnd_epoch)/C). Each ACK moves cwnd by (target − cwnd)/cwnd per segment acknowledged, where target
/// is W_cubic(t + SRTT) clamped to [cwnd, 1.5·cwnd]; in the Reno-friendly region (W_cubic(t) below the estimate W_est
/// of what Reno with α_cubic = 3(1 − β)/(1 + β) would have) cwnd follows W_est. A congestion event sets
/// ssthresh = max(β·cwnd, 2·SMSS) with β = 0.7 and remembers W_max = cwnd, or cwnd·(1 + β)/2 when cwnd is below the
/// previous W_max (fast convergence). Slow start, the recovery mechanics and the RTO collapse are Reno's.
/// </summary>
/// <remarks>
/// Windows are kept in bytes as a double so the per-ACK fractions add up; <see cref="Window"/> is its integer part.
/// Like Linux, the reduction uses cwnd rather than FlightSize (RFC 9438 §4.6 allows either): cwnd only grows while it
/// limits the sender, so the two are close, and cwnd is what W_max must remember.
/// </remarks>
internal sealed class CubicCongestionControl : ICongestionControl
{
    /// <summary>C: the cubic's aggressiveness (RFC 9438 §5: 0.4).</summary>
    public const double C = 0.4;

    /// <summary>β_cubic: the multiplicative decrease factor (RFC 9438 §4.6: 0.7).</summary>
    public const double Beta = 0.7;

    /// <summary>α_cubic = 3(1 − β)/(1 + β): the Reno-friendly additive increase per RTT (RFC 9438 §4.3).</summary>
    public const double RenoFriendlyAlpha = 3 * (1 - Beta) / (1 + Beta);

    private readonly int _initialWindowSegments;
    private double _window;
    private double _slowStartThreshold = int.MaxValue;
    private double _windowMax; // W_max in bytes; 0 before the first congestion event
    private bool _epochStarted;
    private long _epochStart; // ticks
    private double _k; // seconds
    private double _originPoint; // bytes: W_max of the current epoch (the plateau)
    private double _renoEstimate; // W_est in bytes
    private double _priorWindowMax; // W_max before the last reduction, for an undo

    /// <summary>Creates the algorithm with an initial window of <paramref name="initialWindowSegments"/> × <paramref name="mss"/>.</summary>
    public CubicCongestionControl(int initialWindowSegments, int mss)
    {
        _initialWindowSegments = initialWindowSegments;
        _window = (double)initialWindowSegments * mss;
    }

    /// <inheritdoc/>
    public int Window => (int)Math.Min(_window, int.MaxValue);

    /// <inheritdoc/>
    public int SlowStartThreshold => (int)Math.Min(_slowStartThreshold, int.MaxValue);

    /// <summary>W_max in bytes (0 before any congestion event).</summary>
    internal double WindowMax => _windowMax;

    /// <summary>K in seconds for the current congestion avoidance stage (0 before it began).</summary>
    internal double K => _k;

    /// <summary>W_est in bytes for the current congestion avoidance stage.</summary>
    internal double RenoEstimate => _renoEstimate;

    /// <summary>W_cubic(t) in segments for <paramref name="k"/> and <paramref name="windowMaxSegments"/> (RFC 9438 Eq. 1).</summary>
    public static double CubicWindow(double t, double k, double windowMaxSegments) => (C * Math.Pow(t - k, 3)) + windowMaxSegments;

    /// <summary>K = ∛((W_max − cwnd_epoch)/C) in seconds (RFC 9438 Eq. 2), windows in segments.</summary>
    public static double TimeToOrigin(double windowMaxSegments, double epochWindowSegments) =>
        Math.Cbrt(Math.Max(0, windowMaxSegments - epochWindowSegments) / C);

    /// <inheritdoc/>
    public void OnAck(int bytesAcked, int mss, long now, long smoothedRtt)
    {
        if (bytesAcked <= 0)
        {
            return;
        }

        double acked = bytesAcked;
        if (_window < _slowStartThreshold)
        {
            // Slow start with byte counting, as Reno; what is left past ssthresh counts for congestion avoidance.
            double growth = Math.Min(acked, _slowStartThreshold - _window);
            _window += growth;
            acked -= growth;
            if (acked <= 0)
            {
                return;
            }
        }

        if (!_epochStarted)
        {
            StartEpoch(mss, now);
        }

        double t = (double)(now - _epochStart) / TimeSpan.TicksPerSecond;
        double rtt = (double)smoothedRtt / TimeSpan.TicksPerSecond;
        double target = CubicWindow(t + rtt, _k, _originPoint / mss) * mss;
        target = Math.Clamp(target, _window, 1.5 * _window);

        // RFC 9438 §4.3: W_est grows by α_cubic per window of ACKs (by 1 once it passed W_max, like Reno).
        double alpha = _renoEstimate >= _windowMax ? 1 : RenoFriendlyAlpha;
        _renoEstimate += alpha * acked * mss / _window;

        if (CubicWindow(t, _k, _originPoint / mss) * mss < _renoEstimate)
        {
            _window = Math.Max(_window, _renoEstimate); // Reno-friendly region
        }
        else
        {
            _window += (target - _window) * acked / _window; // concave or convex region
        }
    }

    /// <inheritdoc/>
    public void OnEnterRecovery(int flightSize, int mss, long now)
    {
        Reduce(mss);
        _window = _slowStartThreshold + (3.0 * mss); // NewReno inflation for the three duplicates (RFC 6582)
    }

    /// <inheritdoc/>
    public void OnEnterSackRecovery(int flightSize, int mss, long now)
    {
        Reduce(mss);
        _window = _slowStartThreshold; // RFC 6675: pipe does the accounting
    }

    /// <inheritdoc/>
    public void OnDuplicateAckInRecovery(int mss) => _window += mss;

    /// <inheritdoc/>
    public void OnPartialAck(int bytesAcked, int mss)
    {
        double deflated = _window - bytesAcked;
        if (bytesAcked >= mss)
        {
            deflated += mss;
        }

        _window = Math.Max(deflated, mss);
    }

    /// <inheritdoc/>
    public void OnExitRecovery(int flightSize, int mss)
    {
        _window = Math.Max(Math.Min(_slowStartThreshold, (double)flightSize + mss), mss);
        _epochStarted = false;
    }

    /// <inheritdoc/>
    public void OnRetransmitTimeout(int flightSize, int mss, bool firstExpiry)
    {
        if (firstExpiry)
        {
            Reduce(mss); // RFC 9438 §4.8: ssthresh by β, then Reno's cwnd = 1 SMSS
        }

        _window = mss;
        _epochStarted = false;
    }

    /// <inheritdoc/>
    public void OnLossRepaired(int mss, long now)
    {
        Reduce(mss);
        _window = _slowStartThreshold;
    }

    /// <inheritdoc/>
    public void OnUndo(int priorWindow, int priorSlowStartThreshold)
    {
        _window = Math.Max(_window, priorWindow);
        _slowStartThreshold = Math.Max(_slowStartThreshold, priorSlowStartThreshold);
        _windowMax = _priorWindowMax;
        _epochStarted = false;
    }

    /// <inheritdoc/>
    public void OnIdleRestart(int mss)
    {
        _window = Math.Min(_window, (double)_initialWindowSegments * mss);
        _epochStarted = false; // t must not count the idle time (RFC 9438 §5.8)
    }

    /// <summary>RFC 9438 §4.6–4.7: W_max with fast convergence, ssthresh = max(β·cwnd, 2·SMSS); the epoch ends.</summary>
    private void Reduce(int mss)
    {
        _priorWindowMax = _windowMax;
        _windowMax = _window < _windowMax ? _window * (1 + Beta) / 2 : _window;
        _slowStartThreshold = Math.Max(_window * Beta, 2.0 * mss);
        _epochStarted = false;
    }

    /// <summary>A congestion avoidance stage begins (RFC 9438 §4.2): K from W_max and the window now; W_est starts at it.</summary>
    private void StartEpoch(int mss, long now)
    {
        _epochStarted = true;
        _epochStart = now;
        _renoEstimate = _window;
        if (_window < _windowMax)
        {
            _k = TimeToOrigin(_windowMax / mss, _window / mss);
            _originPoint = _windowMax;
        }
        else
        {
            _k = 0; // no congestion seen above this window: grow convexly from here (Linux bictcp_update)
            _originPoint = _window;
        }
    }
}
