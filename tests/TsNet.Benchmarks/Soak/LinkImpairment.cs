namespace TsNet.Benchmarks.Soak;

/// <summary>What <see cref="LossyUnderlay"/> does to each outgoing datagram: probabilities per datagram (0–1).</summary>
internal sealed record LinkImpairment
{
    /// <summary>Probability that a datagram is dropped.</summary>
    public double LossRate { get; init; }

    /// <summary>Probability that a datagram is held back by <see cref="ReorderDelay"/>, so later ones overtake it.</summary>
    public double ReorderRate { get; init; }

    /// <summary>How long a reordered datagram is held back.</summary>
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(2);
}
