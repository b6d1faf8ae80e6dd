using System.Net;
using System.Text.Json;
using TsNet.Control.Protocol;

namespace TsNet.Control.Netmap;

/// <summary>
/// A netmap peer as the folder holds it between messages: the wire <see cref="Node"/> normalised (the rules of
/// <see cref="NodeNormalizer"/>) and reduced to what the registry entry, the server's patches and the map's readers
/// use, with keys and prefixes parsed once. The registry entry made from it shares its arrays (prefixes, endpoints,
/// tags) and key bytes, so a 10 000-peer map holds each peer's data once, not once as text and again as entry.
/// Not kept (informational, no reader): the machine key, the stable ID, Hostinfo (but the host name when it names the
/// peer), the creation time. Text that does not parse is kept as text (the entry leaves it out, as it did before).
/// </summary>
internal sealed record NetmapPeer
{
    /// <summary>Node ID.</summary>
    public required long Id { get; init; }

    /// <summary>Owner user ID.</summary>
    public long User { get; init; }

    /// <summary>MagicDNS name as sent (normally with a trailing dot).</summary>
    public string? Name { get; init; }

    /// <summary>
    /// <c>Hostinfo.Hostname</c>, kept only when <see cref="Name"/> is empty: then it is the short name
    /// (<see cref="NodeNames.From"/>), otherwise nothing reads it.
    /// </summary>
    public string? Hostname { get; init; }

    /// <summary>The node key; null when absent or not a node key (<see cref="UnparsedKey"/> holds such text).</summary>
    public WireGuardKey? NodeKey { get; init; }

    /// <summary>The key text when it did not parse, else null.</summary>
    public string? UnparsedKey { get; init; }

    /// <summary>The disco key; null when absent or not a disco key (<see cref="UnparsedDiscoKey"/> holds such text).</summary>
    public DiscoKey? DiscoKey { get; init; }

    /// <summary>The disco key text when it did not parse, else null.</summary>
    public string? UnparsedDiscoKey { get; init; }

    /// <summary>Expiry of the node key; null or Go's zero time = none.</summary>
    public DateTimeOffset? KeyExpiry { get; init; }

    /// <summary>The server says the key has expired.</summary>
    public bool Expired { get; init; }

    /// <summary>The node's own addresses that parse (host bits cleared).</summary>
    public IPNetwork[] Addresses { get; init; } = [];

    /// <summary>AllowedIPs that parse; the same array as <see cref="Addresses"/> when the node's AllowedIPs are its addresses.</summary>
    public IPNetwork[] AllowedIPs { get; init; } = [];

    /// <summary>Subnet routes this node is primary for, as sent.</summary>
    public IReadOnlyList<string>? PrimaryRoutes { get; init; }

    /// <summary>Candidate UDP endpoints as sent (<c>ip:port</c>).</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>Home DERP region (also from the legacy string); 0 = unknown.</summary>
    public int HomeDerp { get; init; }

    /// <summary>Online; null = unknown.</summary>
    public bool? Online { get; init; }

    /// <summary>Last seen.</summary>
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>The node's capability version.</summary>
    public int Cap { get; init; }

    /// <summary>Node attributes, raw.</summary>
    public IReadOnlyDictionary<string, JsonElement>? CapMap { get; init; }

    /// <summary>False for expired or unauthorised nodes.</summary>
    public bool MachineAuthorized { get; init; }

    /// <summary>ACL tags (shared, interned strings).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Plain WireGuard peer.</summary>
    public bool IsWireGuardOnly { get; init; }

    /// <summary>Unsigned peer (its AllowedIPs are its addresses).</summary>
    public bool UnsignedPeerAPIOnly { get; init; }

    /// <summary>
    /// The compact form of <paramref name="node"/>. <paramref name="strings"/>, when given, makes equal tags one
    /// instance across peers.
    /// </summary>
    public static NetmapPeer From(Node node, StringPool? strings = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        var addresses = RegistryPeerBuilder.ParsePrefixes(node.Addresses);

        // As NodeNormalizer: AllowedIPs absent, or an unsigned peer's, are the addresses (the same array says so).
        var allowed = node.AllowedIPs is null || node.UnsignedPeerAPIOnly || ReferenceEquals(node.AllowedIPs, node.Addresses)
            ? addresses
            : RegistryPeerBuilder.ParsePrefixes(node.AllowedIPs);
        var (key, unparsedKey) = ParseKey(node.Key);
        var (disco, unparsedDisco) = ParseDisco(node.DiscoKey);
        return new NetmapPeer
        {
            Id = node.ID,
            User = node.User,
            Name = node.Name,
            Hostname = node.Name.AsSpan().Trim().TrimEnd('.').IsEmpty ? node.Hostinfo?.Hostname : null,
            NodeKey = key,
            UnparsedKey = unparsedKey,
            DiscoKey = disco,
            UnparsedDiscoKey = unparsedDisco,
            KeyExpiry = node.KeyExpiry,
            Expired = node.Expired,
            Addresses = addresses,
            AllowedIPs = allowed,
            PrimaryRoutes = node.PrimaryRoutes,
            Endpoints = Compact(node.Endpoints),
            HomeDerp = node.EffectiveHomeDerp,
            Online = node.Online,
            LastSeen = node.LastSeen,
            Cap = node.Cap,
            CapMap = node.CapMap,
            MachineAuthorized = node.MachineAuthorized,
            Tags = Intern(node.Tags, strings),
            IsWireGuardOnly = node.IsWireGuardOnly,
            UnsignedPeerAPIOnly = node.UnsignedPeerAPIOnly,
        };
    }

    /// <summary>
    /// <paramref name="fresh"/> (the same peer from a newer full map) when anything of it differs from this peer;
    /// otherwise this instance. When only what the registry entry does not hold differs (last seen, capabilities, …),
    /// the result takes this peer's arrays and keys, so an entry made from this peer still shares them.
    /// </summary>
    /// <param name="fresh">The same peer (same ID) as the newer map has it.</param>
    /// <param name="sameEntry">True when an entry made from this peer is also right for the result.</param>
    public NetmapPeer Reuse(NetmapPeer fresh, out bool sameEntry)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        sameEntry = Id == fresh.Id
            && Expired == fresh.Expired
            && Nullable.Equals(NodeKey, fresh.NodeKey)
            && Nullable.Equals(DiscoKey, fresh.DiscoKey)
            && User == fresh.User
            && string.Equals(Name, fresh.Name, StringComparison.Ordinal)
            && string.Equals(Hostname, fresh.Hostname, StringComparison.Ordinal)
            && HomeDerp == fresh.HomeDerp
            && Online == fresh.Online
            && Nullable.Equals(KeyExpiry, fresh.KeyExpiry)
            && ReferenceEquals(Addresses, AllowedIPs) == ReferenceEquals(fresh.Addresses, fresh.AllowedIPs)
            && Addresses.AsSpan().SequenceEqual(fresh.Addresses)
            && AllowedIPs.AsSpan().SequenceEqual(fresh.AllowedIPs)
            && Endpoints.SequenceEqual(fresh.Endpoints, StringComparer.Ordinal)
            && Tags.SequenceEqual(fresh.Tags, StringComparer.Ordinal);
        if (!sameEntry)
        {
            return fresh;
        }

        var shared = fresh with
        {
            Name = Name,
            NodeKey = NodeKey,
            DiscoKey = DiscoKey,
            Addresses = Addresses,
            AllowedIPs = AllowedIPs,
            Endpoints = Endpoints,
            Tags = Tags,
            CapMap = SameCapMap(CapMap, fresh.CapMap) ? CapMap : fresh.CapMap,
            PrimaryRoutes = SameTexts(PrimaryRoutes, fresh.PrimaryRoutes) ? PrimaryRoutes : fresh.PrimaryRoutes,
        };

        // Record equality: what the two share is the same instance now, so this compares the remaining values.
        return shared.Equals(this) ? this : shared;
    }

    /// <summary>This peer with a <c>PeersChangedPatch</c> entry applied (zero and null fields leave a field as it was).</summary>
    public NetmapPeer Patch(PeerChange patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var (key, unparsedKey) = patch.Key is null ? (NodeKey, UnparsedKey) : ParseKey(patch.Key);
        var (disco, unparsedDisco) = patch.DiscoKey is null ? (DiscoKey, UnparsedDiscoKey) : ParseDisco(patch.DiscoKey);
        return this with
        {
            HomeDerp = patch.DERPRegion != 0 ? patch.DERPRegion : HomeDerp,
            Cap = patch.Cap != 0 ? patch.Cap : Cap,
            CapMap = patch.CapMap ?? CapMap,
            Endpoints = patch.Endpoints is null ? Endpoints : Compact(patch.Endpoints),
            NodeKey = key,
            UnparsedKey = unparsedKey,
            DiscoKey = disco,
            UnparsedDiscoKey = unparsedDisco,
            Online = patch.Online ?? Online,
            LastSeen = patch.LastSeen ?? LastSeen,
            KeyExpiry = patch.KeyExpiry ?? KeyExpiry,
        };
    }

    /// <summary>
    /// This peer as a (normalised) wire node, for readers of <see cref="Netmap.Peers"/>: keys and prefixes in their
    /// canonical text, the fields not kept left empty. Made on demand; the folder never keeps it.
    /// </summary>
    public Node ToNode()
    {
        var addresses = Format(Addresses);
        return new Node
        {
            ID = Id,
            User = User,
            Name = Name,
            Key = UnparsedKey ?? (NodeKey is { } key ? ControlKeyText.Format(ControlKeyText.NodePublicPrefix, key) : null),
            KeyExpiry = KeyExpiry,
            Expired = Expired,
            DiscoKey = UnparsedDiscoKey ?? (DiscoKey is { } disco ? ControlKeyText.Format(disco) : null),
            Addresses = addresses,
            AllowedIPs = ReferenceEquals(AllowedIPs, Addresses) ? addresses : Format(AllowedIPs),
            PrimaryRoutes = PrimaryRoutes,
            Endpoints = Endpoints,
            HomeDERP = HomeDerp,
            Online = Online,
            LastSeen = LastSeen,
            Cap = Cap,
            CapMap = CapMap,
            Hostinfo = Hostname is null ? null : new Hostinfo { Hostname = Hostname },
            MachineAuthorized = MachineAuthorized,
            Tags = Tags,
            IsWireGuardOnly = IsWireGuardOnly,
            UnsignedPeerAPIOnly = UnsignedPeerAPIOnly,
        };
    }

    private static bool SameTexts(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        a is null || b is null ? a is null && b is null : a.SequenceEqual(b, StringComparer.Ordinal);

    private static bool SameCapMap(IReadOnlyDictionary<string, JsonElement>? a, IReadOnlyDictionary<string, JsonElement>? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (name, value) in a)
        {
            if (!b.TryGetValue(name, out var other) || !JsonElement.DeepEquals(value, other))
            {
                return false;
            }
        }

        return true;
    }

    private static (WireGuardKey? Key, string? Unparsed) ParseKey(string? text) =>
        text is null ? (null, null)
        : ControlKeyText.TryParse(ControlKeyText.NodePublicPrefix, text, out var key) ? (key, null)
        : (null, text);

    private static (DiscoKey? Key, string? Unparsed) ParseDisco(string? text) =>
        text is null ? (null, null)
        : ControlKeyText.TryParseDisco(text, out var key) ? (key, null)
        : (null, text);

    // The wire lists are growable lists with spare room; an exact array holds the same for less.
    private static IReadOnlyList<string> Compact(IReadOnlyList<string>? texts)
    {
        if (texts is null || texts.Count == 0)
        {
            return [];
        }

        if (texts is string[] array)
        {
            return array;
        }

        var copy = new string[texts.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = texts[i];
        }

        return copy;
    }

    private static IReadOnlyList<string> Intern(IReadOnlyList<string>? texts, StringPool? strings)
    {
        if (texts is null || texts.Count == 0)
        {
            return [];
        }

        var copy = new string[texts.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = strings is null ? texts[i] : strings.Intern(texts[i]);
        }

        return copy;
    }

    private static string[] Format(IPNetwork[] prefixes)
    {
        var texts = new string[prefixes.Length];
        for (var i = 0; i < texts.Length; i++)
        {
            texts[i] = prefixes[i].ToString();
        }

        return texts;
    }
}
