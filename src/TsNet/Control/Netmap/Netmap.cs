using System.Net;
using System.Text.Json;
using TsNet.Control.Protocol;

namespace TsNet.Control.Netmap;

/// <summary>
/// The network map after a message was folded in: one immutable view (later messages make a new one), readable
/// from any thread. Peers are normalised (<see cref="NodeNormalizer"/>).
/// </summary>
internal sealed class Netmap
{
    /// <summary>The self node; null until the first map.</summary>
    public required Node? Self { get; init; }

    /// <summary>The self node's addresses (host addresses of <c>Node.Addresses</c>, IPv4 first).</summary>
    public required IReadOnlyList<IPAddress> SelfAddresses { get; init; }

    /// <summary>The self node's names (short and full without the trailing dot).</summary>
    public required NodeNames SelfNames { get; init; }

    private IReadOnlyList<Node>? _peers;

    /// <summary>
    /// Every peer the map holds in the folder's compact form, in no particular order (also those the registry leaves
    /// out). This is what the folder keeps; <see cref="Peers"/> is made from it on demand.
    /// </summary>
    public IReadOnlyList<NetmapPeer> CompactPeers { get; init; } = [];

    /// <summary>
    /// Every peer as a (normalised) wire node, in the order of <see cref="CompactPeers"/>: made on first read from the
    /// compact form (<see cref="NetmapPeer.ToNode"/>: canonical key and prefix text, the informational fields the
    /// folder does not keep left empty) and then kept with this map. For tests and diagnostics: the registry is the
    /// cheap way to read peers.
    /// </summary>
    public IReadOnlyList<Node> Peers
    {
        get
        {
            if (Volatile.Read(ref _peers) is { } made)
            {
                return made;
            }

            // Racing readers may each make the list; any of them is right (the map never changes).
            var nodes = new Node[CompactPeers.Count];
            for (var i = 0; i < nodes.Length; i++)
            {
                nodes[i] = CompactPeers[i].ToNode();
            }

            return Interlocked.CompareExchange(ref _peers, nodes, null) ?? nodes;
        }

        init => _peers = value;
    }

    /// <summary>The tailnet domain (<c>Domain</c>), or null.</summary>
    public required string? Domain { get; init; }

    /// <summary>User profiles by ID.</summary>
    public required IReadOnlyDictionary<long, UserProfile> UserProfiles { get; init; }

    /// <summary>The effective DERP map (sticky fields merged), or null.</summary>
    public required DERPMap? DerpMap { get; init; }

    /// <summary>The DNS configuration, or null.</summary>
    public required DNSConfig? DnsConfig { get; init; }

    /// <summary>
    /// The effective packet filter rules as one raw JSON array (named chunks concatenated by name; the filter parses
    /// it); null while the server has sent none. An empty array allows nothing.
    /// </summary>
    public required JsonElement? PacketFilter { get; init; }

    /// <summary>The server's clock from the last message that had it (informational: expiry is judged locally).</summary>
    public required DateTimeOffset? ControlTime { get; init; }
}
