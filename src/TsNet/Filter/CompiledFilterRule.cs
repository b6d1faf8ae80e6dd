namespace TsNet.Filter;

/// <summary>
/// One <c>FilterRule</c> ready for matching: a 256-bit protocol set, sorted merged source ranges and destination
/// entries, each per address family (a packet is only ever compared with ranges of its own family).
/// </summary>
internal sealed class CompiledFilterRule
{
    private readonly ulong[] _protocols;

    public CompiledFilterRule(
        ulong[] protocols, AddressRange[] sourcesV4, AddressRange[] sourcesV6, DestinationPorts[] destinationsV4, DestinationPorts[] destinationsV6)
    {
        _protocols = protocols;
        SourcesV4 = sourcesV4;
        SourcesV6 = sourcesV6;
        DestinationsV4 = destinationsV4;
        DestinationsV6 = destinationsV6;
    }

    public AddressRange[] SourcesV4 { get; }

    public AddressRange[] SourcesV6 { get; }

    public DestinationPorts[] DestinationsV4 { get; }

    public DestinationPorts[] DestinationsV6 { get; }

    /// <summary>Whether the rule names <paramref name="protocol"/> (explicitly or by the empty-list default).</summary>
    public bool HasProtocol(byte protocol) => (_protocols[protocol >> 6] & (1UL << (protocol & 63))) != 0;

    /// <summary>
    /// Whether the rule lets <paramref name="packet"/> in. Ports are compared for TCP, UDP and SCTP; ICMP matches
    /// any port range (it has none); other protocols match only entries covering every port (as Tailscale does).
    /// </summary>
    public bool Matches(in PacketSummary packet)
    {
        if (!HasProtocol(packet.Protocol))
        {
            return false;
        }

        var destinations = packet.IsV6 ? DestinationsV6 : DestinationsV4;
        var ported = PacketSummary.HasPorts(packet.Protocol);
        var icmp = packet.IsIcmp;
        var destinationMatched = false;
        foreach (ref readonly var entry in destinations.AsSpan())
        {
            if (!entry.Addresses.Contains(packet.Destination))
            {
                continue;
            }

            if (ported ? packet.DestinationPort >= entry.FirstPort && packet.DestinationPort <= entry.LastPort : icmp || entry.IsAllPorts)
            {
                destinationMatched = true;
                break;
            }
        }

        return destinationMatched && AddressRange.AnyContains(packet.IsV6 ? SourcesV6 : SourcesV4, packet.Source);
    }
}
