namespace TsNet.WireGuard.Protocol;

/// <summary>
/// Per-source-IP token bucket for handshake messages while under load (wireguard.md §5: 20 per second, burst 5).
/// The table is bounded: stale entries are collected every second, and when it is still full new sources are
/// refused (only while under load, when refusing is the point).
/// </summary>
internal sealed class HandshakeRateLimiter
{
    // Specification (wireguard-go ratelimiter): 20 packets per second, burst 5.
    private const long PacketsPerSecond = 20;
    private const long PacketsBurstable = 5;
    private static readonly long s_packetCost = TimeSpan.TicksPerSecond / PacketsPerSecond;
    private static readonly long s_maxTokens = s_packetCost * PacketsBurstable;
    private static readonly long s_garbageCollectInterval = TimeSpan.TicksPerSecond;

    private readonly Dictionary<(ulong, ulong, bool, uint), Bucket> _buckets = new();
    private readonly int _maxEntries;
    private long _lastCollection = Timestamps.Never;

    public HandshakeRateLimiter(int maxEntries = 65536)
    {
        _maxEntries = maxEntries;
    }

    public int Count => _buckets.Count;

    /// <summary>Takes a token for <paramref name="source"/>'s address; false when its bucket is empty.</summary>
    public bool Allow(in UnderlayAddress source, long now)
    {
        if (now - _lastCollection >= s_garbageCollectInterval)
        {
            Collect(now);
        }

        var key = source.AddressKey;
        if (_buckets.TryGetValue(key, out var bucket))
        {
            var tokens = Math.Min(s_maxTokens, bucket.Tokens + (now - bucket.LastTime));
            if (tokens < s_packetCost)
            {
                _buckets[key] = new Bucket(tokens, now);
                return false;
            }

            _buckets[key] = new Bucket(tokens - s_packetCost, now);
            return true;
        }

        if (_buckets.Count >= _maxEntries)
        {
            return false;
        }

        _buckets[key] = new Bucket(s_maxTokens - s_packetCost, now);
        return true;
    }

    private void Collect(long now)
    {
        _lastCollection = now;
        List<(ulong, ulong, bool, uint)>? stale = null;
        foreach (var (key, bucket) in _buckets)
        {
            if (now - bucket.LastTime > s_garbageCollectInterval)
            {
                (stale ??= new()).Add(key);
            }
        }

        if (stale is not null)
        {
            foreach (var key in stale)
            {
                _buckets.Remove(key);
            }
        }
    }

    private readonly record struct Bucket(long Tokens, long LastTime);
}
