using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// One address a peer may be reachable at (magicsock's <c>endpointState</c>): from the netmap (kept while listed),
/// from a CallMeMaybe (kept until the next one), or from an inbound ping (kept while pings keep coming).
/// </summary>
internal sealed class DiscoCandidate(UnderlayAddress address, long learnedAt)
{
    public UnderlayAddress Address { get; } = address;

    /// <summary>When the candidate was first learned, to evict the oldest learned one when the table is full.</summary>
    public long LearnedAt { get; } = learnedAt;

    /// <summary>Listed in the peer's netmap endpoints.</summary>
    public bool InNetmap { get; set; }

    /// <summary>When the last CallMeMaybe listed it; <see cref="Timestamps.Never"/> when the current one does not.</summary>
    public long CallMeMaybeTime { get; set; } = Timestamps.Never;

    /// <summary>When we last pinged it (discovery or heartbeat).</summary>
    public long LastPing { get; set; } = Timestamps.Never;

    /// <summary>When a ping from it last arrived (only for candidates not in the netmap).</summary>
    public long LastGotPing { get; set; } = Timestamps.Never;

    /// <summary>Transaction id of the last ping from it (a repeat is a duplicate and gets no pong).</summary>
    public TransactionId LastGotPingTxId { get; set; }

    /// <summary>True while the transaction id above is meaningful.</summary>
    public bool HasGotPing { get; set; }

    /// <summary>Learned at run time (CallMeMaybe or ping) rather than from the netmap.</summary>
    public bool IsLearned => !InNetmap;

    /// <summary>
    /// Nothing keeps it any more (magicsock <c>shouldDeleteLocked</c>): not in the netmap, not in the current
    /// CallMeMaybe, and no ping from it for <paramref name="pingLifetime"/> ticks.
    /// </summary>
    public bool IsExpired(long now, long pingLifetime) =>
        !InNetmap && CallMeMaybeTime == Timestamps.Never && (LastGotPing == Timestamps.Never || now - LastGotPing > pingLifetime);
}
