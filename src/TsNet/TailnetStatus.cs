using System.Net;
using System.Text.Json.Serialization;
using TsNet.Json;

namespace TsNet;

/// <summary>
/// A snapshot of a node: its identity and addresses, its peers' sessions, and why packets were dropped. It serializes
/// with plain <c>JsonSerializer</c> (keys as <c>wg</c>'s base64 text, addresses and endpoints as text) and reads back.
/// </summary>
public sealed class TailnetStatus
{
    [JsonConstructor]
    internal TailnetStatus(WireGuardKey publicKey, IReadOnlyList<IPAddress> addresses, int listenPort, IReadOnlyList<TailnetPeerStatus> peers, IReadOnlyDictionary<string, long> drops)
    {
        PublicKey = publicKey;
        Addresses = addresses;
        ListenPort = listenPort;
        Peers = peers;
        Drops = drops;
    }

    /// <summary>The node's public key.</summary>
    public WireGuardKey PublicKey { get; }

    /// <summary>The node's overlay addresses.</summary>
    [JsonConverter(typeof(IPAddressListJsonConverter))]
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>The underlay UDP port.</summary>
    public int ListenPort { get; }

    /// <summary>One entry per configured peer.</summary>
    public IReadOnlyList<TailnetPeerStatus> Peers { get; }

    /// <summary>Dropped packets by reason (only reasons that occurred), from the WireGuard core, the underlay and the netstack.</summary>
    public IReadOnlyDictionary<string, long> Drops { get; }

    /// <summary>
    /// Why the node stopped working — a bug escaped one of its loops (<c>type: message</c> of the cause) — or null while
    /// it is healthy. A faulted node fails every pending and later call with that cause and reports no peers; dispose it.
    /// </summary>
    [JsonInclude]
    public string? Fault { get; internal init; }

    /// <summary>The node's full DNS name on the tailnet (no trailing dot), in control mode once Running; null otherwise.</summary>
    [JsonInclude]
    public string? DnsName { get; internal init; }

    /// <summary>The node's home DERP region; null while it has none (DERP is not used yet).</summary>
    [JsonInclude]
    public int? HomeDerpRegion { get; internal init; }

    /// <summary>
    /// The node's underlay endpoints as it reported them to the coordination server (the bound UDP port on the host's
    /// addresses); empty in static mode.
    /// </summary>
    [JsonInclude]
    [JsonConverter(typeof(IPEndPointListJsonConverter))]
    public IReadOnlyList<IPEndPoint> Endpoints { get; internal init; } = [];

    /// <summary>True while the map stream to the coordination server is up (control mode); false in static mode.</summary>
    [JsonInclude]
    public bool ControlConnected { get; internal init; }
}

/// <summary>One peer's session as the node sees it.</summary>
public sealed class TailnetPeerStatus
{
    [JsonConstructor]
    internal TailnetPeerStatus(WireGuardKey publicKey, string? name, IPEndPoint? endpoint, DateTimeOffset? lastHandshake, long rxBytes, long txBytes, string sessionState)
    {
        PublicKey = publicKey;
        Name = name;
        Endpoint = endpoint;
        LastHandshake = lastHandshake;
        RxBytes = rxBytes;
        TxBytes = txBytes;
        SessionState = sessionState;
    }

    /// <summary>The peer's public key.</summary>
    public WireGuardKey PublicKey { get; }

    /// <summary>The peer's configured name, if any.</summary>
    public string? Name { get; }

    /// <summary>Where packets to the peer go now (configured or learned by roaming); null until known.</summary>
    [JsonConverter(typeof(IPEndPointJsonConverter))]
    public IPEndPoint? Endpoint { get; }

    /// <summary>When the last handshake completed; null if none did.</summary>
    public DateTimeOffset? LastHandshake { get; }

    /// <summary>Underlay bytes received from the peer (authenticated messages).</summary>
    public long RxBytes { get; }

    /// <summary>Underlay bytes sent to the peer.</summary>
    public long TxBytes { get; }

    /// <summary><c>established</c>, <c>handshaking</c>, <c>awaiting-confirmation</c> or <c>none</c>.</summary>
    public string SessionState { get; }

    /// <summary>The peer's full DNS name (no trailing dot): from the netmap, or a static peer's name with the DNS suffix; null without one.</summary>
    [JsonInclude]
    public string? DnsName { get; internal init; }

    /// <summary>The peer's own overlay addresses, IPv4 first (see <see cref="TailnetPeerIdentity.Addresses"/>).</summary>
    [JsonInclude]
    [JsonConverter(typeof(IPAddressListJsonConverter))]
    public IReadOnlyList<IPAddress> Addresses { get; internal init; } = [];

    /// <summary>Whether the coordination server says the peer is online; null when unknown (static peers).</summary>
    [JsonInclude]
    public bool? Online { get; internal init; }

    /// <summary>
    /// The path packets to the peer take, as text: <c>direct &lt;ip:port&gt;</c>, <c>relay &lt;ip:port&gt;</c> (a static
    /// peer with both an endpoint and a relay path shows the one in use now) or <c>derp &lt;region&gt;</c>; null while no
    /// endpoint is known.
    /// </summary>
    [JsonInclude]
    public string? Path { get; internal init; }
}
