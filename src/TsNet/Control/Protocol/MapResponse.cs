using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// One message of the map stream (protocol doc §9.3). Absent or null means unchanged for almost every field;
/// <see cref="Peers"/> present is the complete peer list, the <c>Peers*</c> delta fields change single peers.
/// </summary>
internal sealed record MapResponse
{
    /// <summary>A keep-alive: nothing but <c>ControlTime</c>, <c>PingRequest</c> and <c>PopBrowserURL</c> counts.</summary>
    public bool KeepAlive { get; init; }

    /// <summary>The self node (replaces the previous one).</summary>
    public Node? Node { get; init; }

    /// <summary>DERP map (sticky sub-fields: see <c>NetmapFolder</c>).</summary>
    public DERPMap? DERPMap { get; init; }

    /// <summary>Complete peer list when present (even empty).</summary>
    public IReadOnlyList<Node>? Peers { get; init; }

    /// <summary>Peers added or replaced whole, by ID.</summary>
    public IReadOnlyList<Node>? PeersChanged { get; init; }

    /// <summary>Peer IDs removed.</summary>
    public IReadOnlyList<long>? PeersRemoved { get; init; }

    /// <summary>Field patches of known peers (unknown IDs are skipped).</summary>
    public IReadOnlyList<PeerChange>? PeersChangedPatch { get; init; }

    /// <summary>Peer ID → seen now (true) or last-seen cleared (false).</summary>
    public IReadOnlyDictionary<long, bool>? PeerSeenChange { get; init; }

    /// <summary>Peer ID → online.</summary>
    public IReadOnlyDictionary<long, bool>? OnlineChange { get; init; }

    /// <summary>DNS configuration (replaces the previous one).</summary>
    public DNSConfig? DNSConfig { get; init; }

    /// <summary>Tailnet name (replaces when non-empty).</summary>
    public string? Domain { get; init; }

    /// <summary>Packet filter rules, raw (the filter parses them): non-null replaces the rules named <c>base</c>.</summary>
    public JsonElement? PacketFilter { get; init; }

    /// <summary>Named filter chunks, raw: a null value deletes that name, <c>"*": null</c> clears all first.</summary>
    public IReadOnlyDictionary<string, JsonElement>? PacketFilters { get; init; }

    /// <summary>User profiles, upserted by ID.</summary>
    public IReadOnlyList<UserProfile>? UserProfiles { get; init; }

    /// <summary>Server clock (the Go test server's is a fixed date: judge expiry by the local clock).</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? ControlTime { get; init; }

    /// <summary>A URL for the user to open (show once per distinct URL).</summary>
    public string? PopBrowserURL { get; init; }

    /// <summary>Server asks for a ping or a HEAD callback, raw (§9.6).</summary>
    public JsonElement? PingRequest { get; init; }

    /// <summary>Whether the server wants service collection.</summary>
    public bool? CollectServices { get; init; }

    /// <summary>True when the message changes anything about peers.</summary>
    [JsonIgnore]
    public bool HasPeerChanges =>
        Peers is not null || PeersChanged is not null || PeersRemoved is not null || PeersChangedPatch is not null
        || PeerSeenChange is not null || OnlineChange is not null;
}
