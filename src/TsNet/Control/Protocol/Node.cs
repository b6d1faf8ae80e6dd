using System.Text.Json;
using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// A node of the network map, self or peer (protocol doc §9.4). Addresses, routes and endpoints stay text here:
/// and so do keys (<see cref="ControlKeyText"/>): the netmap folder parses them and drops what does not parse, so one
/// bad entry never fails a whole map.
/// </summary>
internal sealed record Node
{
    /// <summary>Legacy <see cref="DERP"/> strings are <c>127.3.3.40:&lt;region&gt;</c>.</summary>
    public const string LegacyDerpHost = "127.3.3.40:";

    /// <summary>Node ID (64-bit; deltas name peers by it).</summary>
    public long ID { get; init; }

    /// <summary>Stable textual ID.</summary>
    public string? StableID { get; init; }

    /// <summary>MagicDNS name, normally with a trailing dot.</summary>
    public string? Name { get; init; }

    /// <summary>Owner user ID (see <see cref="MapResponse.UserProfiles"/>).</summary>
    public long User { get; init; }

    /// <summary>Node key, <c>nodekey:</c> text: the peer's WireGuard public key.</summary>
    public string? Key { get; init; }

    /// <summary>Expiry of <see cref="Key"/>; null or Go's zero time = none.</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? KeyExpiry { get; init; }

    /// <summary>The server says the key has expired: do not send to this peer.</summary>
    public bool Expired { get; init; }

    /// <summary>Machine key, <c>mkey:</c> text (informational).</summary>
    public string? Machine { get; init; }

    /// <summary>Disco key, <c>discokey:</c> text; zero = no disco.</summary>
    public string? DiscoKey { get; init; }

    /// <summary>The node's own addresses (<c>/32</c>, <c>/128</c>).</summary>
    public IReadOnlyList<string>? Addresses { get; init; }

    /// <summary>WireGuard AllowedIPs; null = <see cref="Addresses"/>, empty = none.</summary>
    public IReadOnlyList<string>? AllowedIPs { get; init; }

    /// <summary>Subnet routes this node is primary for.</summary>
    public IReadOnlyList<string>? PrimaryRoutes { get; init; }

    /// <summary>Candidate UDP endpoints, <c>ip:port</c>.</summary>
    public IReadOnlyList<string>? Endpoints { get; init; }

    /// <summary>Home DERP region (0 = unknown).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int HomeDERP { get; init; }

    /// <summary>Legacy home DERP form <c>127.3.3.40:&lt;region&gt;</c> (older servers send only this).</summary>
    public string? DERP { get; init; }

    /// <summary>Online; null = unknown.</summary>
    public bool? Online { get; init; }

    /// <summary>Last seen (offline peers).</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>The node's capability version.</summary>
    public int Cap { get; init; }

    /// <summary>Node attributes; values are raw JSON (often null).</summary>
    public IReadOnlyDictionary<string, JsonElement>? CapMap { get; init; }

    /// <summary>The node's own report.</summary>
    public Hostinfo? Hostinfo { get; init; }

    /// <summary>False for expired or unauthorised nodes.</summary>
    public bool MachineAuthorized { get; init; }

    /// <summary>ACL tags (<c>tag:x</c>).</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>Plain WireGuard peer (no disco, no DERP).</summary>
    public bool IsWireGuardOnly { get; init; }

    /// <summary>Unsigned peer: AllowedIPs are clamped to <see cref="Addresses"/>.</summary>
    public bool UnsignedPeerAPIOnly { get; init; }

    /// <summary>Creation time.</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? Created { get; init; }

    /// <summary>The home DERP region: <see cref="HomeDERP"/> when non-zero, else the legacy string's port, else 0.</summary>
    [JsonIgnore]
    public int EffectiveHomeDerp => HomeDERP != 0 ? HomeDERP : ParseLegacyDerp(DERP);

    /// <summary>The region of <c>127.3.3.40:&lt;region&gt;</c>; 0 for anything else.</summary>
    public static int ParseLegacyDerp(string? derp) =>
        derp is not null
        && derp.StartsWith(LegacyDerpHost, StringComparison.Ordinal)
        && int.TryParse(derp.AsSpan(LegacyDerpHost.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var region)
            ? region
            : 0;
}
