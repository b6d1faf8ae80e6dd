using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// Per-peer disco path state (magicsock's <c>endpoint</c>): candidates, best address and its trust window,
/// outstanding pings, activity and heartbeat timers. Owned by <see cref="DiscoPathCore"/>.
/// </summary>
internal sealed class DiscoPeer(uint id, Key32 nodeKey, byte[] nodeKeyBytes)
{
    /// <summary>Outstanding pings kept per peer; the oldest is forgotten when more are sent (they would time out anyway).</summary>
    public const int MaxOutstandingPings = 16;

    private readonly DiscoSentPing[] _sentPings = new DiscoSentPing[MaxOutstandingPings];

    public uint Id { get; } = id;

    public Key32 NodeKey { get; } = nodeKey;

    /// <summary>The node key as bytes, for DERP sends.</summary>
    public byte[] NodeKeyBytes { get; } = nodeKeyBytes;

    /// <summary>The peer's disco key, or null when it has none (DERP only, no discovery).</summary>
    public DiscoKeyEntry? Disco { get; set; }

    public int HomeDerpRegion { get; set; }

    /// <summary>The region the peer last reached us through.</summary>
    public int LastDerpArrivalRegion { get; set; }

    /// <summary>The DERP region to use: home, else where the peer last came from, else 0.</summary>
    public int DerpRegion => HomeDerpRegion != 0 ? HomeDerpRegion : LastDerpArrivalRegion;

    public List<DiscoCandidate> Candidates { get; } = [];

    /// <summary>The best direct address confirmed by a pong (<c>default</c> = none).</summary>
    public AddressQuality Best { get; set; }

    /// <summary>Until when <see cref="Best"/> is used exclusively.</summary>
    public long TrustUntil { get; set; } = Timestamps.Never;

    /// <summary>The last outbound WireGuard datagram (heartbeats stop when it is old).</summary>
    public long LastSendActivity { get; set; } = Timestamps.Never;

    /// <summary>Next heartbeat; <see cref="Timestamps.NotArmed"/> while idle.</summary>
    public long HeartbeatAt { get; set; } = Timestamps.NotArmed;

    /// <summary>A CallMeMaybe is owed to the peer once this node's endpoints are fresh again (a re-STUN finishes).</summary>
    public bool CallMeMaybePending { get; set; }

    /// <summary>The last full discovery round.</summary>
    public long LastFullPing { get; set; } = Timestamps.Never;

    public int SentPingCount { get; private set; }

    public ReadOnlySpan<DiscoSentPing> SentPings => _sentPings.AsSpan(0, SentPingCount);

    public DiscoCandidate? FindCandidate(in UnderlayAddress address)
    {
        foreach (var candidate in Candidates)
        {
            if (candidate.Address == address)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Records a sent ping, forgetting the oldest when the table is full.</summary>
    public void AddSentPing(in DiscoSentPing ping)
    {
        if (SentPingCount == MaxOutstandingPings)
        {
            int oldest = 0;
            for (int i = 1; i < SentPingCount; i++)
            {
                if (_sentPings[i].SentAt < _sentPings[oldest].SentAt)
                {
                    oldest = i;
                }
            }

            RemoveSentPingAt(oldest);
        }

        _sentPings[SentPingCount++] = ping;
    }

    /// <summary>Finds and removes the ping with <paramref name="txId"/>; false when none is outstanding.</summary>
    public bool TryTakeSentPing(in TransactionId txId, out DiscoSentPing ping)
    {
        for (int i = 0; i < SentPingCount; i++)
        {
            if (_sentPings[i].TxId == txId)
            {
                ping = _sentPings[i];
                RemoveSentPingAt(i);
                return true;
            }
        }

        ping = default;
        return false;
    }

    public void RemoveSentPingAt(int index)
    {
        _sentPings[index] = _sentPings[--SentPingCount];
        _sentPings[SentPingCount] = default;
    }

    /// <summary>Forgets everything learned about paths (the peer's disco key changed: it restarted).</summary>
    public void ResetPaths()
    {
        Best = default;
        TrustUntil = Timestamps.Never;
        LastFullPing = Timestamps.Never;
        while (SentPingCount > 0)
        {
            RemoveSentPingAt(SentPingCount - 1);
        }
    }
}
