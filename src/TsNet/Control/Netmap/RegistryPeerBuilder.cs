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
    public static RegistryPeer? Build(Node node, string? domain, IReadOnlyDictionary<long, UserProfile> users, bool acceptRoutes = false)
    {
        if (node.Expired
            || node.Key is null
            || !ControlKeyText.TryParse(ControlKeyText.NodePublicPrefix, node.Key, out var nodeKey)
            || nodeKey.IsEmpty)
        {
            return null;
        }

        var addresses = ParsePrefixes(node.Addresses);
        var allowed = node.AllowedIPs is null || ReferenceEquals(node.AllowedIPs, node.Addresses)
            ? addresses
            : KeepRoutes(ParsePrefixes(node.AllowedIPs), acceptRoutes);
        var endpoints = ValidEndpoints(node.Endpoints);
        var names = NodeNames.From(node.Name, domain, node.Hostinfo?.Hostname);
        users.TryGetValue(node.User, out var user);
        var discoKey = node.DiscoKey is not null && ControlKeyText.TryParseDisco(node.DiscoKey, out var disco) ? disco : default;
        return new RegistryPeer
        {
            NodeKey = nodeKey,
            Endpoint = endpoints.Count > 0 ? endpoints[0] : null,
            Endpoints = endpoints,
            AllowedIps = allowed,
            Name = names.Short,
            DnsName = names.Full,
            Addresses = RegistryPeer.HostAddresses(addresses),
            Tags = node.Tags is { Count: > 0 } tags ? [.. tags] : [],
            UserLoginName = user?.LoginName,
            UserDisplayName = user?.DisplayName,
            Source = PeerSource.Netmap,
            DiscoKey = discoKey,
            HomeDerpRegion = node.EffectiveHomeDerp,
            Online = node.Online,
            KeyExpiry = GoTimeJsonConverter.IsZero(node.KeyExpiry) ? null : node.KeyExpiry,
        };
    }

    /// <summary>The prefixes that parse (host bits cleared); a bare address is its host prefix.</summary>
    public static IPNetwork[] ParsePrefixes(IReadOnlyList<string>? texts)
    {
        if (texts is null || texts.Count == 0)
        {
            return [];
        }

        var prefixes = new List<IPNetwork>(texts.Count);
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
                prefixes.Add(network);
            }
            else if (AddressText.TryParse(text, out var address, out var prefix, out _))
            {
                prefixes.Add(AddressText.Network(address, prefix ?? AddressText.MaxPrefix(address)));
            }
        }

        return [.. prefixes];
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

    private static IReadOnlyList<string> ValidEndpoints(IReadOnlyList<string>? texts)
    {
        if (texts is null || texts.Count == 0)
        {
            return [];
        }

        var valid = new List<string>(texts.Count);
        foreach (var text in texts)
        {
            if (text is not null && IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0)
            {
                valid.Add(text);
            }
        }

        return valid.Count == texts.Count ? texts : [.. valid];
    }
}
