namespace TsNet.Netstack;

/// <summary>
/// A token bucket for the ICMP errors a node sends (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f) require a limit). Integer
/// arithmetic in timestamp ticks: the bucket's level is stored as the ticks it took to fill, one token costs
/// <c>frequency / rate</c> ticks, and the level is capped at <c>burst</c> tokens. Refilled lazily on each take, so
/// it has no timer. Starts full.
/// </summary>
internal sealed class IcmpErrorRateLimiter
{
    private readonly long _ticksPerToken;
    private readonly long _capacityTicks;
    private long _levelTicks;
    private long _last;
    private bool _started;

    public IcmpErrorRateLimiter(double tokensPerSecond, int burst, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(tokensPerSecond, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(timestampFrequency, 1);
        _ticksPerToken = Math.Max(1, (long)(timestampFrequency / tokensPerSecond));
        _capacityTicks = checked(_ticksPerToken * burst);
        _levelTicks = _capacityTicks;
    }

    /// <summary>Tokens available at the last take (for tests and diagnostics).</summary>
    public long Tokens => _levelTicks / _ticksPerToken;

    /// <summary>Takes one token at <paramref name="now"/>; false when the bucket is empty.</summary>
    public bool TryTake(long now)
    {
        if (_started)
        {
            // A clock that steps back refills nothing.
            long elapsed = Math.Max(0, now - _last);
            _levelTicks = elapsed >= _capacityTicks - _levelTicks ? _capacityTicks : _levelTicks + elapsed;
        }

        _started = true;
        _last = now;
        if (_levelTicks < _ticksPerToken)
        {
            return false;
        }

        _levelTicks -= _ticksPerToken;
        return true;
    }
}
