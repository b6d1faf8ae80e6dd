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
}
