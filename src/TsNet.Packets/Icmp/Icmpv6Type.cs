namespace TsNet.Packets;

/// <summary>ICMPv6 message types (RFC 4443).</summary>
internal static class Icmpv6Type
{
    /// <summary>Destination unreachable.</summary>
    public const byte DestinationUnreachable = 1;

    /// <summary>Packet too big; carries the MTU of the next hop.</summary>
    public const byte PacketTooBig = 2;

    /// <summary>Time exceeded.</summary>
    public const byte TimeExceeded = 3;

    /// <summary>Parameter problem.</summary>
    public const byte ParameterProblem = 4;

    /// <summary>Echo request.</summary>
    public const byte EchoRequest = 128;

    /// <summary>Echo reply.</summary>
    public const byte EchoReply = 129;
}
