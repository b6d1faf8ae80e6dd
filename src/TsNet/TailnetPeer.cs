using System.Net;

namespace TsNet;

/// <summary>A WireGuard peer of the node: who it is, where to reach it and which addresses it may use.</summary>
public sealed class TailnetPeer
{
    /// <summary>The peer's public key (required).</summary>
    public WireGuardKey PublicKey { get; set; }

    /// <summary>Optional preshared key mixed into the handshake (both sides must set the same one).</summary>
    public WireGuardKey? PresharedKey { get; set; }

    /// <summary>
    /// Where to send handshakes first, as <c>host:port</c> (<c>[v6]:port</c> for IPv6 literals). A host name is
    /// resolved at start and re-resolved when a handshake gets no answer. Null: wait for the peer to reach us;
    /// an authenticated packet from the peer sets (and later roams) the endpoint.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>Inner addresses this peer may send from and that are routed to it (cryptokey routing).</summary>
    public IList<IPNetwork> AllowedIps { get; } = new List<IPNetwork>();

    /// <summary>Interval of keepalives sent even without traffic (for NAT mappings); null or zero = off.</summary>
    public TimeSpan? PersistentKeepalive { get; set; }

    /// <summary>
    /// Optional path through a UDP relay server: the node binds to the relay endpoint and sends WireGuard messages
    /// Geneve-encapsulated through it. Without an <see cref="Endpoint"/>, all traffic to this peer goes through the
    /// relay. With one (resolved once, when the peer is applied), the node also pings the endpoint with disco (the
    /// relay path names the peer's disco key): traffic goes direct while pongs confirm the endpoint (a heartbeat every
    /// 3 s keeps it trusted for 6.5 s), through the relay otherwise, and WireGuard's session carries on across every
    /// switch. The peer must be a TsNet node configured the same way (it answers the pings). Needs the node's
    /// <see cref="TailnetServerOptions.DiscoKey"/> (generated when absent).
    /// </summary>
    public TailnetRelayPath? Relay { get; set; }

    /// <summary>Optional short name (e.g. <c>db</c>) used to dial the peer by name.</summary>
    public string? Name { get; set; }

    internal TailnetPeer Clone()
    {
        var copy = new TailnetPeer
        {
            PublicKey = PublicKey,
            PresharedKey = PresharedKey,
            Endpoint = Endpoint,
            PersistentKeepalive = PersistentKeepalive,
            Name = Name,
            Relay = Relay?.Clone(),
        };
        foreach (var network in AllowedIps)
        {
            copy.AllowedIps.Add(network);
        }

        return copy;
    }
}
