using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>DERP relay map (protocol doc §9.5); region IDs are JSON string keys.</summary>
internal sealed record DERPMap
{
    /// <summary>Home selection parameters; null = unchanged.</summary>
    public DERPHomeParams? HomeParams { get; init; }

    /// <summary>Regions by ID; null = unchanged; a null region value is dropped.</summary>
    public IReadOnlyDictionary<int, DERPRegion?>? Regions { get; init; }

    /// <summary>Do not add built-in default regions.</summary>
    [JsonPropertyName("omitDefaultRegions")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool OmitDefaultRegions { get; init; }
}

/// <summary><c>DERPMap.HomeParams</c>.</summary>
internal sealed record DERPHomeParams
{
    /// <summary>Region ID → score multiplier; null = keep previous, empty = reset.</summary>
    public IReadOnlyDictionary<int, double>? RegionScore { get; init; }
}

/// <summary>One DERP region.</summary>
internal sealed record DERPRegion
{
    /// <summary>Region ID (900–999 self-hosted).</summary>
    public int RegionID { get; init; }

    /// <summary>Short code.</summary>
    public string? RegionCode { get; init; }

    /// <summary>Display name.</summary>
    public string? RegionName { get; init; }

    /// <summary>Latitude.</summary>
    public double Latitude { get; init; }

    /// <summary>Longitude.</summary>
    public double Longitude { get; init; }

    /// <summary>Deprecated: avoid as home.</summary>
    public bool Avoid { get; init; }

    /// <summary>Never measure or pick as home (may still connect to reach a peer).</summary>
    public bool NoMeasureNoHome { get; init; }

    /// <summary>Servers in priority order.</summary>
    public IReadOnlyList<DERPNode>? Nodes { get; init; }
}

/// <summary>One DERP server.</summary>
internal sealed record DERPNode
{
    /// <summary>Name (unique in the map).</summary>
    public string? Name { get; init; }

    /// <summary>Region ID.</summary>
    public int RegionID { get; init; }

    /// <summary>DNS name and TLS SNI.</summary>
    public string? HostName { get; init; }

    /// <summary>Expected certificate name; <c>sha256-raw:&lt;hex&gt;</c> pins the certificate.</summary>
    public string? CertName { get; init; }

    /// <summary>IPv4 literal (overrides DNS); <c>none</c> disables IPv4.</summary>
    public string? IPv4 { get; init; }

    /// <summary>IPv6 literal; <c>none</c> disables IPv6.</summary>
    public string? IPv6 { get; init; }

    /// <summary>STUN port (0 → 3478, −1 = none).</summary>
    public int STUNPort { get; init; }

    /// <summary>STUN only, no DERP.</summary>
    public bool STUNOnly { get; init; }

    /// <summary>DERP port (0 → 443).</summary>
    public int DERPPort { get; init; }

    /// <summary>Skip TLS verification (test servers only).</summary>
    public bool InsecureForTests { get; init; }

    /// <summary>STUN test address.</summary>
    public string? STUNTestIP { get; init; }

    /// <summary>Port 80 is reachable.</summary>
    public bool CanPort80 { get; init; }
}
