namespace TsNet.Packets;

/// <summary>TCP option kinds (IANA "TCP Option Kind Numbers") that TsNet knows.</summary>
internal static class TcpOptionKind
{
    /// <summary>End of option list: stop parsing.</summary>
    public const byte EndOfList = 0;

    /// <summary>No-operation: a single padding byte.</summary>
    public const byte NoOperation = 1;

    /// <summary>Maximum segment size (length 4, SYN only).</summary>
    public const byte MaximumSegmentSize = 2;

    /// <summary>Window scale (length 3, SYN only; RFC 7323).</summary>
    public const byte WindowScale = 3;

    /// <summary>SACK permitted (length 2, SYN only; RFC 2018).</summary>
    public const byte SackPermitted = 4;

    /// <summary>SACK blocks (length 2 + 8n; RFC 2018).</summary>
    public const byte Sack = 5;

    /// <summary>Timestamps (length 10; RFC 7323).</summary>
    public const byte Timestamps = 8;
}
