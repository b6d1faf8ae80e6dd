using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// What the node tells the server about itself (protocol doc §8.5): the fields a client sends and the ones peers'
/// Hostinfo carries that TsNet reads. Every field is optional and left out when empty.
/// </summary>
internal sealed record Hostinfo
{
    /// <summary>Client version string.</summary>
    public string? IPNVersion { get; init; }

    /// <summary>Log ID; the Go client refuses to register without one (servers do not require it).</summary>
    public string? BackendLogID { get; init; }

    /// <summary>OS name (<c>linux</c>, <c>windows</c>, <c>macOS</c>, …).</summary>
    [JsonConverter(typeof(KnownStringJsonConverter))]
    public string? OS { get; init; }

    /// <summary>OS version.</summary>
    public string? OSVersion { get; init; }

    /// <summary>The node's host name; servers name the node after it.</summary>
    public string? Hostname { get; init; }

    /// <summary>The embedding application (Go tsnet sets this).</summary>
    public string? App { get; init; }

    /// <summary>Userspace networking (no TUN).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Userspace { get; init; }

    /// <summary>Subnet routes to advertise (CIDR text).</summary>
    public IReadOnlyList<string>? RoutableIPs { get; init; }

    /// <summary>Tags asked for (interactive login only; with a pre-auth key the key decides).</summary>
    public IReadOnlyList<string>? RequestTags { get; init; }

    /// <summary>Services the node offers.</summary>
    public IReadOnlyList<HostService>? Services { get; init; }

    /// <summary>Network conditions; <c>PreferredDERP</c> becomes the node's home DERP at the server.</summary>
    public NetInfo? NetInfo { get; init; }

    /// <summary>SSH host keys (the one lower-case name in Hostinfo).</summary>
    [JsonPropertyName("sshHostKeys")]
    public IReadOnlyList<string>? SshHostKeys { get; init; }
}

/// <summary><c>Hostinfo.Services</c> entry.</summary>
internal sealed record HostService
{
    /// <summary><c>tcp</c>, <c>udp</c>, <c>peerapi4</c>, <c>peerapi6</c>, <c>peerapi-dns-proxy</c>.</summary>
    [JsonConverter(typeof(KnownStringJsonConverter))]
    public string? Proto { get; init; }

    /// <summary>Port.</summary>
    public int Port { get; init; }

    /// <summary>Description.</summary>
    public string? Description { get; init; }
}

/// <summary><c>Hostinfo.NetInfo</c>: what a client sends (home DERP region and latencies).</summary>
internal sealed record NetInfo
{
    /// <summary>The node's home DERP region ID (0 = none yet).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int PreferredDERP { get; init; }

    /// <summary>Latency per <c>"&lt;region&gt;-v4"</c>/<c>"-v6"</c>, in seconds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? DERPLatency { get; init; }
}
