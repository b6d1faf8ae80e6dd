namespace TsNet.Packets;

/// <summary>ICMPv4 message types (RFC 792) and the codes TsNet looks at.</summary>
internal static class Icmpv4Type
{
    /// <summary>Echo reply.</summary>
    public const byte EchoReply = 0;

    /// <summary>Destination unreachable; code <see cref="FragmentationNeededCode"/> is IPv4's "packet too big".</summary>
    public const byte DestinationUnreachable = 3;

    /// <summary>Echo request.</summary>
    public const byte EchoRequest = 8;

    /// <summary>Time exceeded.</summary>
    public const byte TimeExceeded = 11;

    /// <summary>Destination unreachable code: port unreachable.</summary>
    public const byte PortUnreachableCode = 3;

    /// <summary>Destination unreachable code: fragmentation needed and DF set (RFC 1191); carries the next-hop MTU.</summary>
    public const byte FragmentationNeededCode = 4;
}
