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
    public bool Matches(in PacketSummary packet) => Matches(packet, PortCheckOf(packet));

    /// <summary>How a packet's protocol is compared with port ranges; the same for every rule, so worked out once per packet.</summary>
    public static PortCheck PortCheckOf(in PacketSummary packet) =>
        PacketSummary.HasPorts(packet.Protocol) ? PortCheck.Port : packet.IsIcmp ? PortCheck.AnyRange : PortCheck.AllPortsOnly;

    /// <summary><see cref="Matches(in PacketSummary)"/> with the packet's <see cref="PortCheck"/> already known.</summary>
    public bool Matches(in PacketSummary packet, PortCheck portCheck)
    {
        if ((_protocols[packet.Protocol >> 6] & (1UL << (packet.Protocol & 63))) == 0)
        {
            return false;
        }

        var destination = packet.Destination;
        var port = packet.DestinationPort;
        foreach (ref readonly var entry in (packet.IsV6 ? DestinationsV6 : DestinationsV4).AsSpan())
        {
            if (destination >= entry.Addresses.First && destination <= entry.Addresses.Last
                && portCheck switch
                {
                    PortCheck.Port => port >= entry.FirstPort && port <= entry.LastPort,
                    PortCheck.AnyRange => true,
                    _ => entry.IsAllPorts,
                })
            {
                return AddressRange.AnyContains(packet.IsV6 ? SourcesV6 : SourcesV4, packet.Source);
            }
        }

        return false;
    }
}

/// <summary>How a packet's destination port is held against a rule's port ranges.</summary>
internal enum PortCheck
{
    /// <summary>TCP, UDP, SCTP: the port must be in the range.</summary>
    Port,

    /// <summary>ICMP: no ports, any range matches.</summary>
    AnyRange,

    /// <summary>Other protocols: only a range of every port matches.</summary>
    AllPortsOnly,
}
