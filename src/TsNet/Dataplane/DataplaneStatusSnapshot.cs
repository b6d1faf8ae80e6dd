using System.Net;

namespace TsNet.Dataplane;

/// <summary>
/// What the dataplane knows about its peers' sessions at one moment, taken on the loop's task and then only read:
/// <c>GetStatus</c> joins it with the registry's peers.
/// </summary>
internal sealed class DataplaneStatusSnapshot(Dictionary<WireGuardKey, PeerSessionStatus> peers, Dictionary<string, long> drops)
{
    /// <summary>Before the loop first answered: no sessions, no drops.</summary>
    public static DataplaneStatusSnapshot Empty { get; } = new([], []);

    /// <summary>Per peer in the WireGuard core.</summary>
    public IReadOnlyDictionary<WireGuardKey, PeerSessionStatus> Peers { get; } = peers;

    /// <summary>Drops counted on the loop (WireGuard core, relay paths) by reason; only reasons that occurred.</summary>
    public IReadOnlyDictionary<string, long> Drops { get; } = drops;
}

/// <summary>One peer's session as the WireGuard core had it.</summary>
internal readonly record struct PeerSessionStatus(IPEndPoint? Endpoint, DateTimeOffset? LastHandshake, long RxBytes, long TxBytes, string SessionState, string? Path = null);
