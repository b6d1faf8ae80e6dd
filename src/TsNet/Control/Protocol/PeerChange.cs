using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary><c>PeersChangedPatch</c> entry: each non-null field replaces the peer's (protocol doc §9.3).</summary>
internal sealed record PeerChange
{
    /// <summary>The peer to patch (unknown IDs are skipped).</summary>
    public long NodeID { get; init; }

    /// <summary>Non-zero: new home DERP region.</summary>
    public int DERPRegion { get; init; }

    /// <summary>New capability version (non-zero).</summary>
    public int Cap { get; init; }

    /// <summary>New node attributes.</summary>
    public IReadOnlyDictionary<string, JsonElement>? CapMap { get; init; }

    /// <summary>New endpoints.</summary>
    public IReadOnlyList<string>? Endpoints { get; init; }

    /// <summary>New node key, <c>nodekey:</c> text (null = unchanged).</summary>
    public string? Key { get; init; }

    /// <summary>New disco key, <c>discokey:</c> text (null = unchanged).</summary>
    public string? DiscoKey { get; init; }

    /// <summary>New online state.</summary>
    public bool? Online { get; init; }

    /// <summary>New last-seen time.</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>New key expiry.</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? KeyExpiry { get; init; }
}
