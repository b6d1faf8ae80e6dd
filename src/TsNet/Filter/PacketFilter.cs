using System.Text.Json;

namespace TsNet.Filter;

/// <summary>
/// The netmap's inbound rules, compiled and immutable: a packet is allowed when any rule matches it (O(rules), no
/// allocation). Replaced whole on a netmap change; flow state lives in <see cref="StatefulPacketFilter"/>.
/// </summary>
internal sealed class PacketFilter
{
    private readonly CompiledFilterRule[] _rules;

    public PacketFilter(IEnumerable<CompiledFilterRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [.. rules];
    }

    /// <summary>No rules: nothing new comes in (the netmap's <c>[]</c>, and what a bad filter falls back to, as in Tailscale).</summary>
    public static PacketFilter DenyAll { get; } = new([]);

    public IReadOnlyList<CompiledFilterRule> Rules => _rules;

    /// <summary>Parses the netmap's <c>PacketFilter</c> (a JSON array of <c>FilterRule</c>) from UTF-8 JSON.</summary>
    /// <exception cref="FormatException">Not JSON, not an array of rules, or a value that is not what the field takes.</exception>
    public static PacketFilter Parse(ReadOnlySpan<byte> utf8Json) => new(FilterRuleParser.Parse(utf8Json));

    /// <summary>Parses the netmap's <c>PacketFilter</c> from an already parsed JSON array.</summary>
    /// <exception cref="FormatException">Not an array of rules, or a value that is not what the field takes.</exception>
    public static PacketFilter Parse(JsonElement rules) => new(FilterRuleParser.Parse(rules));

    /// <summary>
    /// One filter of several rule sets, in the given order: the netmap's named <c>PacketFilters</c> chunks (Headscale
    /// sends its whole filter as <c>{"base": [...]}</c>) take effect concatenated, sorted by name.
    /// </summary>
    public static PacketFilter Concat(IEnumerable<PacketFilter> filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        var rules = new List<CompiledFilterRule>();
        foreach (var filter in filters)
        {
            rules.AddRange(filter._rules);
        }

        return new(rules);
    }

    /// <summary>Whether some rule lets <paramref name="packet"/> in (stateless: replies are the stateful layer's).</summary>
    public bool Allows(in PacketSummary packet)
    {
        var portCheck = CompiledFilterRule.PortCheckOf(packet);
        foreach (var rule in _rules)
        {
            if (rule.Matches(packet, portCheck))
            {
                return true;
            }
        }

        return false;
    }
}
