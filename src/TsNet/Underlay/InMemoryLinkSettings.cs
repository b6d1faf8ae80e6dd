namespace TsNet.Underlay;

/// <summary>
/// How an <see cref="InMemoryUnderlayHub"/> treats each datagram: rates are probabilities per datagram (0–1) drawn
/// from the hub's seeded random source, times are on the hub's <see cref="TimeProvider"/>.
/// </summary>
internal sealed record InMemoryLinkSettings
{
    /// <summary>A perfect link: every datagram arrives at once, in order, once.</summary>
    public static InMemoryLinkSettings Perfect { get; } = new();

    /// <summary>Probability that a datagram is lost.</summary>
    public double LossRate { get; init; }

    /// <summary>Probability that a datagram is held back by <see cref="ReorderDelay"/>, so later ones overtake it.</summary>
    public double ReorderRate { get; init; }

    /// <summary>Extra delay of a reordered datagram.</summary>
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Probability that a datagram arrives twice.</summary>
    public double DuplicateRate { get; init; }

    /// <summary>One-way delay of every datagram (0: delivered during the send).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Most datagrams in flight (delayed) at once; more are dropped and counted, like a full router queue.</summary>
    public int MaxInFlight { get; init; } = 4096;
}
