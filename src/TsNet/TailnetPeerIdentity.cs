using System.Net;
using System.Text.Json.Serialization;
using TsNet.Json;

namespace TsNet;

/// <summary>
/// Who is at the other end of a tailnet connection, as <see cref="TailnetServer.WhoIsAsync"/> answers: the peer's
/// names, node key, addresses and (in control mode) tags and user. For a static peer the names come from
/// <see cref="TailnetPeer.Name"/> and <see cref="TailnetServerOptions.DnsSuffix"/>, and there are no tags or user.
/// </summary>
public sealed class TailnetPeerIdentity
{
    [JsonConstructor]
    internal TailnetPeerIdentity(
        string? dnsName,
        string? hostName,
        WireGuardKey nodeKey,
        IReadOnlyList<IPAddress> addresses,
        IReadOnlyList<string> tags,
        string? userLoginName,
        string? userDisplayName)
    {
        DnsName = dnsName;
        HostName = hostName;
        NodeKey = nodeKey;
        Addresses = addresses;
        Tags = tags;
        UserLoginName = userLoginName;
        UserDisplayName = userDisplayName;
    }

    /// <summary>
    /// The peer's fully qualified name without the trailing dot (<c>db.tailnet.example</c>): for a static peer its
    /// <see cref="TailnetPeer.Name"/> followed by <see cref="TailnetServerOptions.DnsSuffix"/>; null without either.
    /// </summary>
    public string? DnsName { get; }

    /// <summary>The peer's short name (<c>db</c>); for a static peer its <see cref="TailnetPeer.Name"/>, or null.</summary>
    public string? HostName { get; }

    /// <summary>The peer's node key (its WireGuard public key).</summary>
    public WireGuardKey NodeKey { get; }

    /// <summary>
    /// The peer's own overlay addresses, IPv4 first. For a static peer these are the single-host entries
    /// (<c>/32</c>, <c>/128</c>) of its <see cref="TailnetPeer.AllowedIps"/>: a wider prefix is a route through the
    /// peer, not an address of it, so a peer with only subnet prefixes has none listed.
    /// </summary>
    [JsonConverter(typeof(IPAddressListJsonConverter))]
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>The peer's ACL tags (<c>tag:web</c>); empty for static peers and untagged nodes.</summary>
    public IReadOnlyList<string> Tags { get; }

    /// <summary>The login name of the peer's user; null where the coordination server sends no user profile (and for static peers).</summary>
    public string? UserLoginName { get; }

    /// <summary>The display name of the peer's user; null where the coordination server sends no user profile (and for static peers).</summary>
    public string? UserDisplayName { get; }
}
