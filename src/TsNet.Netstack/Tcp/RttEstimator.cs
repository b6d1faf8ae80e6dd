namespace TsNet.Netstack.Tcp;

/// <summary>
/// Smoothed round-trip time and the retransmission timeout of RFC 6298 §2, in <see cref="TimeSpan"/> ticks:
/// before a sample RTO is the initial value; the first sample R sets SRTT = R, RTTVAR = R/2; later ones
/// RTTVAR = ¾·RTTVAR + ¼·|SRTT − R| and SRTT = ⅞·SRTT + ⅛·R; RTO = SRTT + max(G, 4·RTTVAR) clamped to [min, max].
/// </summary>
internal struct RttEstimator
{
    private readonly long _initialRto;
    private readonly long _minRto;
    private readonly long _maxRto;
    private readonly long _granularity;

    /// <summary>Creates an estimator with the given limits (ticks).</summary>
    public RttEstimator(long initialRto, long minRto, long maxRto, long granularity)
    {
        _initialRto = initialRto;
        _minRto = minRto;
        _maxRto = maxRto;
        _granularity = granularity;
        Rto = Math.Clamp(initialRto, minRto, maxRto);
    }

    /// <summary>True once a sample was taken.</summary>
    public bool HasSample { get; private set; }

    /// <summary>SRTT (ticks); zero before the first sample.</summary>
    public long SmoothedRtt { get; private set; }

    /// <summary>RTTVAR (ticks); zero before the first sample.</summary>
    public long RttVariation { get; private set; }

    /// <summary>The retransmission timeout without backoff (ticks).</summary>
    public long Rto { get; private set; }

    /// <summary>Feeds one measurement (ticks, ≥ 0) and recomputes <see cref="Rto"/>.</summary>
    public void AddSample(long rtt)
    {
        rtt = Math.Max(rtt, 0);
        if (!HasSample)
        {
            SmoothedRtt = rtt;
            RttVariation = rtt / 2;
            HasSample = true;
        }
        else
        {
            RttVariation = ((3 * RttVariation) + Math.Abs(SmoothedRtt - rtt)) / 4;
            SmoothedRtt = ((7 * SmoothedRtt) + rtt) / 8;
        }

        Rto = Math.Clamp(SmoothedRtt + Math.Max(_granularity, 4 * RttVariation), _minRto, _maxRto);
    }

    /// <summary>
    /// Forgets the samples (RFC 6298 §5 note: after repeated backoffs the estimate is stale) and returns to the
    /// initial RTO, or to <paramref name="fallbackRto"/> when given (RFC 6298 §5.7: 3 s after a retransmitted SYN).
    /// </summary>
    public void Reset(long fallbackRto = 0)
    {
        HasSample = false;
        SmoothedRtt = 0;
        RttVariation = 0;
        Rto = Math.Clamp(Math.Max(_initialRto, fallbackRto), _minRto, _maxRto);
    }
}
