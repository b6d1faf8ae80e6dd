namespace TsNet.Netstack.Tcp;

/// <summary>
/// The retransmission timer of RFC 6298 §5 with exponential backoff: armed with the current RTO when data (or a
/// SYN/FIN) is outstanding, restarted when an ACK acknowledges new data, stopped when nothing is outstanding. Each
/// expiry doubles the timeout (up to the maximum) and counts a retry; the backoff lasts until the owner calls
/// <see cref="ResetBackoff"/> (a new valid RTT sample, Karn's algorithm).
/// </summary>
internal struct RetransmitTimer
{
    private readonly long _maxRto;
    private int _backoff;

    /// <summary>Creates a stopped timer whose backed-off timeout never exceeds <paramref name="maxRto"/> ticks.</summary>
    public RetransmitTimer(long maxRto) => _maxRto = maxRto;

    /// <summary>When the timer fires (ticks), or <see cref="long.MaxValue"/> when stopped.</summary>
    public long Deadline { get; private set; } = long.MaxValue;

    /// <summary>True while armed.</summary>
    public bool IsRunning => Deadline != long.MaxValue;

    /// <summary>Expiries since the last progress (<see cref="ResetRetries"/>): compared with the retry limits.</summary>
    public int Retries { get; private set; }

    /// <summary>Consecutive doublings applied to the base RTO.</summary>
    public int Backoff => _backoff;

    /// <summary>The timeout the timer uses now: <paramref name="baseRto"/> doubled per backoff, clamped to the maximum.</summary>
    public long CurrentTimeout(long baseRto)
    {
        long timeout = baseRto;
        for (int i = 0; i < _backoff && timeout < _maxRto; i++)
        {
            timeout *= 2;
        }

        return Math.Min(timeout, _maxRto);
    }

    /// <summary>Arms the timer to fire one (backed-off) RTO after <paramref name="now"/>.</summary>
    public void Start(long now, long baseRto) => Deadline = now + CurrentTimeout(baseRto);

    /// <summary>Arms the timer only if it is not running.</summary>
    public void StartIfStopped(long now, long baseRto)
    {
        if (!IsRunning)
        {
            Start(now, baseRto);
        }
    }

    /// <summary>Disarms the timer.</summary>
    public void Stop() => Deadline = long.MaxValue;

    /// <summary>True when armed and due at <paramref name="now"/>.</summary>
    public bool IsExpired(long now) => now >= Deadline;

    /// <summary>Records an expiry: one more retry and one more doubling (RFC 6298 §5.5).</summary>
    public void OnExpired()
    {
        Retries++;
        if (CurrentTimeout(1) < _maxRto)
        {
            _backoff++;
        }

        Stop();
    }

    /// <summary>Drops the backoff (a fresh RTT sample exists).</summary>
    public void ResetBackoff() => _backoff = 0;

    /// <summary>Forgets the retry count (the peer acknowledged new data).</summary>
    public void ResetRetries() => Retries = 0;
}
