namespace TsNet;

/// <summary>What a <see cref="FallbackTcpHandler"/> does with a flow: <see cref="Decline"/>, <see cref="Reject"/> or <see cref="Accept"/>.</summary>
public readonly struct FallbackDecision
{
    private FallbackDecision(FallbackDecisionKind kind, Func<TailnetConnection, CancellationToken, Task>? handle)
    {
        Kind = kind;
        Handle = handle;
    }

    /// <summary>Not this handler's flow: ask the next one (a RST when none claims it). Also the default value.</summary>
    public static FallbackDecision Decline => default;

    /// <summary>Claim the flow and refuse it: the peer gets a RST and no later handler is asked.</summary>
    public static FallbackDecision Reject { get; } = new(FallbackDecisionKind.Reject, null);

    internal FallbackDecisionKind Kind { get; }

    internal Func<TailnetConnection, CancellationToken, Task>? Handle { get; }

    /// <summary>
    /// Claim the flow: the handshake completes and <paramref name="handle"/> runs with the connection and a token that
    /// is cancelled when the node stops. The connection is disposed when the returned task completes.
    /// </summary>
    public static FallbackDecision Accept(Func<TailnetConnection, CancellationToken, Task> handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return new FallbackDecision(FallbackDecisionKind.Accept, handle);
    }
}

/// <summary>The three outcomes; <see cref="Decline"/> is 0 so <c>default(FallbackDecision)</c> declines.</summary>
internal enum FallbackDecisionKind
{
    Decline = 0,
    Reject,
    Accept,
}
