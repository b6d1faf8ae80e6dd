namespace TsNet;

/// <summary>A snapshot of a <see cref="UdpRelayServer"/>'s counters.</summary>
public sealed class UdpRelayServerCounters
{
    internal UdpRelayServerCounters(long forwardedPackets, long forwardedBytes, long challengesSent, long legsBound, long sendFailures, int endpoints, IReadOnlyDictionary<UdpRelayDropReason, long> drops)
    {
        ForwardedPackets = forwardedPackets;
        ForwardedBytes = forwardedBytes;
        ChallengesSent = challengesSent;
        LegsBound = legsBound;
        SendFailures = sendFailures;
        Endpoints = endpoints;
        Drops = drops;
    }

    /// <summary>Data datagrams relayed between bound clients.</summary>
    public long ForwardedPackets { get; }

    /// <summary>Bytes of those datagrams (Geneve header included).</summary>
    public long ForwardedBytes { get; }

    /// <summary>Challenges sent (one per well-formed Bind).</summary>
    public long ChallengesSent { get; }

    /// <summary>Answers that bound (or rebound) a client's address.</summary>
    public long LegsBound { get; }

    /// <summary>Replies or forwards the socket did not take (full buffer, unreachable, no socket for the family).</summary>
    public long SendFailures { get; }

    /// <summary>Endpoints allocated and not yet collected.</summary>
    public int Endpoints { get; }

    /// <summary>Dropped datagrams by reason (every reason present, zero when none).</summary>
    public IReadOnlyDictionary<UdpRelayDropReason, long> Drops { get; }

    /// <summary>All drops together.</summary>
    public long TotalDrops
    {
        get
        {
            long total = 0;
            foreach (var count in Drops.Values)
            {
                total += count;
            }

            return total;
        }
    }
}
