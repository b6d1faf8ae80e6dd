using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// <c>POST /machine/map</c> body (protocol doc §9.1). The poll is <c>Stream:true, KeepAlive:true</c>; a lite update
/// (new endpoints, home DERP or disco key) is <c>Stream:false, OmitPeers:true</c>.
/// </summary>
internal sealed record MapRequest
{
    /// <summary>Value of <see cref="Compress"/> that asks for zstd frames.</summary>
    public const string Zstd = "zstd";

    /// <summary>Capability version.</summary>
    public int Version { get; init; }

    /// <summary><c>zstd</c> or left out (no compression).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? Compress { get; init; }

    /// <summary>Ask for periodic keep-alive messages on the stream.</summary>
    public bool KeepAlive { get; init; }

    /// <summary>The registered node key, <c>nodekey:</c> text.</summary>
    public string? NodeKey { get; init; }

    /// <summary>The current disco key, <c>discokey:</c> text; always sent (a zero one would clobber the server's copy).</summary>
    public string? DiscoKey { get; init; }

    /// <summary>Long poll: many responses until cancelled.</summary>
    public bool Stream { get; init; }

    /// <summary>Current Hostinfo.</summary>
    public Hostinfo? Hostinfo { get; init; }

    /// <summary>UDP endpoints as <c>ip:port</c>.</summary>
    public IReadOnlyList<string>? Endpoints { get; init; }

    /// <summary>Parallel to <see cref="Endpoints"/>: 0 unknown, 1 local, 2 stun, 3 portmap, 4 stun4localport, 5 explicitconf.</summary>
    public IReadOnlyList<int>? EndpointTypes { get; init; }

    /// <summary>No peers wanted (lite update).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool OmitPeers { get; init; }
}
