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

    /// <summary>Every peer the map holds, in no particular order (also those the registry leaves out).</summary>
    public required IReadOnlyList<Node> Peers { get; init; }

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
