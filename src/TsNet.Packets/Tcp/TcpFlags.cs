namespace TsNet.Packets;

/// <summary>The TCP control bits in byte 13 of the header (RFC 9293 §3.1, RFC 3168 for ECE/CWR).</summary>
[Flags]
internal enum TcpFlags : byte
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>No more data from the sender.</summary>
    Fin = 0x01,

    /// <summary>Synchronise sequence numbers.</summary>
    Syn = 0x02,

    /// <summary>Reset the connection.</summary>
    Rst = 0x04,

    /// <summary>Push function.</summary>
    Psh = 0x08,

    /// <summary>The acknowledgment field is significant.</summary>
    Ack = 0x10,

    /// <summary>The urgent pointer is significant (obsolete; treated as in-line data).</summary>
    Urg = 0x20,

    /// <summary>ECN echo.</summary>
    Ece = 0x40,

    /// <summary>Congestion window reduced.</summary>
    Cwr = 0x80,
}
