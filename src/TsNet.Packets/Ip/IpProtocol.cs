namespace TsNet.Packets;

/// <summary>IANA protocol numbers used in the IPv4 Protocol field and the IPv6 Next Header chain.</summary>
internal static class IpProtocol
{
    /// <summary>IPv6 Hop-by-Hop Options header (RFC 8200 §4.3); only valid directly after the IPv6 header.</summary>
    public const byte HopByHopOptions = 0;

    /// <summary>ICMP for IPv4 (RFC 792).</summary>
    public const byte Icmp = 1;

    /// <summary>TCP (RFC 9293).</summary>
    public const byte Tcp = 6;

    /// <summary>UDP (RFC 768).</summary>
    public const byte Udp = 17;

    /// <summary>IPv6 Routing header (RFC 8200 §4.4).</summary>
    public const byte Ipv6Routing = 43;

    /// <summary>IPv6 Fragment header (RFC 8200 §4.5).</summary>
    public const byte Ipv6Fragment = 44;

    /// <summary>ICMP for IPv6 (RFC 4443).</summary>
    public const byte Icmpv6 = 58;

    /// <summary>IPv6 "no next header" (RFC 8200 §4.7).</summary>
    public const byte Ipv6NoNextHeader = 59;

    /// <summary>IPv6 Destination Options header (RFC 8200 §4.6).</summary>
    public const byte Ipv6DestinationOptions = 60;
}
