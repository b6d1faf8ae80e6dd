using System.Net;
using TsNet.Configuration;
using TsNet.Control.Protocol;
using TsNet.Registry;

namespace TsNet.Control.Netmap;

/// <summary>
/// Makes the registry entry of a (normalised) netmap peer. Bad entries are dropped one by one (an address or
/// endpoint that does not parse), never the whole map; a peer without a usable node key, or one the server marks
/// expired (do not send to it), gets no entry.
/// </summary>
internal static class RegistryPeerBuilder
{
    /// <summary>
    /// The entry for <paramref name="node"/>, or null when it cannot be a WireGuard peer. <paramref name="acceptRoutes"/>
    /// false (the default, as tailscale on Linux): AllowedIPs keep only host prefixes (the peer's own addresses), not
    /// the subnet routes it advertises; default routes are never taken (using exit nodes is not supported).
    /// </summary>
    public static RegistryPeer? Build(Node node, string? domain, IReadOnlyDictionary<long, UserProfile> users, bool acceptRoutes = false) =>
        Build(NetmapPeer.From(node), domain, users, acceptRoutes);

    /// <summary>
    /// The entry for <paramref name="peer"/>, or null when it cannot be a WireGuard peer (see the other overload). The
    /// entry shares the peer's arrays (prefixes, endpoints, tags) and key bytes.
    /// </summary>
    public static RegistryPeer? Build(NetmapPeer peer, string? domain, IReadOnlyDictionary<long, UserProfile> users, bool acceptRoutes = false)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Expired || peer.NodeKey is not { } nodeKey || nodeKey.IsEmpty)
        {
            return null;
        }

        var addresses = peer.Addresses;
        var allowed = ReferenceEquals(peer.AllowedIPs, addresses) ? addresses : KeepRoutes(peer.AllowedIPs, acceptRoutes);
        var endpoints = ValidEndpoints(peer.Endpoints);
        var names = NodeNames.From(peer.Name, domain, peer.Hostname);
        users.TryGetValue(peer.User, out var user);
        return new RegistryPeer
        {
            NodeKey = nodeKey,
            Endpoint = endpoints.Count > 0 ? endpoints[0] : null,
            Endpoints = endpoints,
            AllowedIps = allowed,
            Name = names.Short,
            DnsName = names.Full,
            Addresses = RegistryPeer.HostAddresses(addresses),
            Tags = peer.Tags,
            UserLoginName = user?.LoginName,
            UserDisplayName = user?.DisplayName,
            Source = PeerSource.Netmap,
            DiscoKey = peer.DiscoKey ?? default,
            HomeDerpRegion = peer.HomeDerp,
            Online = peer.Online,
            KeyExpiry = GoTimeJsonConverter.IsZero(peer.KeyExpiry) ? null : peer.KeyExpiry,
        };
    }

    /// <summary>The prefixes that parse (host bits cleared); a bare address is its host prefix.</summary>
    public static IPNetwork[] ParsePrefixes(IReadOnlyList<string>? texts)
    {
        if (texts is null || texts.Count == 0)
        {
            return [];
        }

        var prefixes = new IPNetwork[texts.Count];
        var count = 0;
        foreach (var text in texts)
        {
            if (text is null)
            {
                continue;
            }

            // The common case (a canonical prefix) without AddressText's allocations; the strict parser then takes
            // what is left: bare addresses and prefixes with host bits set (cleared, as wg does).
            if (text.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(text, out var network))
            {
                prefixes[count++] = network;
            }
            else if (AddressText.TryParse(text, out var address, out var prefix, out _))
            {
                prefixes[count++] = AddressText.Network(address, prefix ?? AddressText.MaxPrefix(address));
            }
        }

        return count == prefixes.Length ? prefixes : prefixes[..count];
    }

    /// <summary>Host prefixes always; other prefixes only when routes are accepted; default routes never.</summary>
    public static IPNetwork[] KeepRoutes(IPNetwork[] prefixes, bool acceptRoutes)
    {
        var kept = 0;
        foreach (var prefix in prefixes)
        {
            if (IsKept(prefix, acceptRoutes))
            {
                kept++;
            }
        }

        if (kept == prefixes.Length)
        {
            return prefixes;
        }

        var result = new IPNetwork[kept];
        var next = 0;
        foreach (var prefix in prefixes)
        {
            if (IsKept(prefix, acceptRoutes))
            {
                result[next++] = prefix;
            }
        }

        return result;
    }

    private static bool IsKept(IPNetwork prefix, bool acceptRoutes) =>
        prefix.PrefixLength == AddressText.MaxPrefix(prefix.BaseAddress) || (acceptRoutes && prefix.PrefixLength != 0);

    private static IReadOnlyList<string> ValidEndpoints(IReadOnlyList<string> texts)
    {
        var valid = 0;
        foreach (var text in texts)
        {
            if (IsValidEndpoint(text))
            {
                valid++;
            }
        }

        if (valid == texts.Count)
        {
            return texts;
        }

        var kept = new string[valid];
        var next = 0;
        foreach (var text in texts)
        {
            if (IsValidEndpoint(text))
            {
                kept[next++] = text;
            }
        }

        return kept;
    }

    private static bool IsValidEndpoint(string? text) => text is not null && IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0;
}
