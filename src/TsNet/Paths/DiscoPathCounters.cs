using TsNet.Dataplane;

namespace TsNet.Paths;

/// <summary>
/// What <see cref="DiscoPathCore"/> sent, received and dropped, by reason. Written on the dataplane loop only; readers
/// elsewhere see eventually consistent values.
/// </summary>
internal sealed class DiscoPathCounters
{
    /// <summary>Disco pings sent (discovery and heartbeat).</summary>
    public long PingsSent { get; internal set; }

    /// <summary>Disco pings received from known peers (duplicates included).</summary>
    public long PingsReceived { get; internal set; }

    /// <summary>Disco pongs sent in reply to pings.</summary>
    public long PongsSent { get; internal set; }

    /// <summary>Disco pongs received that matched an outstanding ping.</summary>
    public long PongsReceived { get; internal set; }

    /// <summary>CallMeMaybe messages sent over DERP.</summary>
    public long CallMeMaybeSent { get; internal set; }

    /// <summary>CallMeMaybe messages held back until a re-STUN made this node's endpoints fresh (§3.4).</summary>
    public long CallMeMaybeDeferred { get; internal set; }

    /// <summary>CallMeMaybe messages accepted.</summary>
    public long CallMeMaybeReceived { get; internal set; }

    /// <summary>Pings that timed out without a pong.</summary>
    public long PingTimeouts { get; internal set; }

    /// <summary>Dropped: the sender's disco key belongs to no known peer.</summary>
    public long DroppedUnknownSender { get; internal set; }

    /// <summary>Dropped: the box did not open (wrong or stale key, corrupted packet).</summary>
    public long DroppedBadBox { get; internal set; }

    /// <summary>Dropped: not disco-shaped, too large, or an unparseable message.</summary>
    public long DroppedMalformed { get; internal set; }

    /// <summary>Dropped: over DERP, the DERP source node is unknown or its disco key differs from the sender's.</summary>
    public long DroppedWrongDerpSource { get; internal set; }

    /// <summary>Dropped: a message on the wrong transport (CallMeMaybe over UDP).</summary>
    public long DroppedWrongTransport { get; internal set; }

    /// <summary>
    /// Dropped: several peers share the sender's disco key and the message does not say which one it is. Stays 0 here:
    /// a UDP ping is answered once for every peer with the key (as magicsock does), pongs match by transaction id,
    /// and DERP messages name their peer by the DERP source.
    /// </summary>
    public long DroppedAmbiguousSender { get; internal set; }

    /// <summary>Pings not answered: the same transaction id again from the same source.</summary>
    public long DuplicatePings { get; internal set; }

    /// <summary>Pongs ignored: the transaction id matches no outstanding ping (late, or not ours).</summary>
    public long UnknownPongs { get; internal set; }

    /// <summary>Disco messages of types this node does not implement (peer relay), ignored.</summary>
    public long IgnoredMessages { get; internal set; }

    /// <summary>The non-zero drop counters under their status names (<c>disco.*</c>), for either path layer's snapshot.</summary>
    public void AddDropsTo(IDictionary<string, long> drops)
    {
        DropCounters.AddIfNonZero(drops, "disco.UnknownSender", DroppedUnknownSender);
        DropCounters.AddIfNonZero(drops, "disco.BadBox", DroppedBadBox);
        DropCounters.AddIfNonZero(drops, "disco.Malformed", DroppedMalformed);
        DropCounters.AddIfNonZero(drops, "disco.WrongDerpSource", DroppedWrongDerpSource);
        DropCounters.AddIfNonZero(drops, "disco.WrongTransport", DroppedWrongTransport);
        DropCounters.AddIfNonZero(drops, "disco.AmbiguousSender", DroppedAmbiguousSender);
        DropCounters.AddIfNonZero(drops, "disco.UnknownPong", UnknownPongs);
    }
}
