namespace TsNet.Benchmarks.Soak;

/// <summary>UDP echo tallies; losses on the churned pair during churn windows are apart from the others.</summary>
internal sealed record UdpEchoCounts
{
    public long Sent { get; init; }

    public long Echoed { get; init; }

    /// <summary>Lost outside churn windows: the injected loss (and any drop of the nodes' own) accounts for these.</summary>
    public long Lost { get; init; }

    /// <summary>Lost (or refused for want of a route) on the churned pair during a churn window: expected.</summary>
    public long LostChurn { get; init; }

    /// <summary>Sends refused outside churn windows (never expected).</summary>
    public long Refused { get; init; }

    /// <summary>Echoes whose content was damaged (never expected).</summary>
    public long Corrupt { get; init; }

    /// <summary>Echoes of a datagram already echoed or already judged lost.</summary>
    public long Late { get; init; }

    /// <summary>Datagrams sent outside churn windows whose fate is known (echoed or lost): the loss check's sample.</summary>
    public long Judged { get; init; }

    public static UdpEchoCounts operator +(UdpEchoCounts a, UdpEchoCounts b) => new()
    {
        Sent = a.Sent + b.Sent,
        Echoed = a.Echoed + b.Echoed,
        Lost = a.Lost + b.Lost,
        LostChurn = a.LostChurn + b.LostChurn,
        Refused = a.Refused + b.Refused,
        Corrupt = a.Corrupt + b.Corrupt,
        Late = a.Late + b.Late,
        Judged = a.Judged + b.Judged,
    };
}
