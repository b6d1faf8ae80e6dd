namespace TsNet.Netstack.Tcp;

/// <summary>Why a connection ended, if not by the normal close handshake.</summary>
internal enum TcpError
{
    /// <summary>No error (open, or closed normally).</summary>
    None,

    /// <summary>The peer answered our SYN with a RST ("connection refused").</summary>
    Refused,

    /// <summary>The peer reset an established connection.</summary>
    Reset,

    /// <summary>Retransmissions, SYN retries, keepalives or zero-window probes went unanswered.</summary>
    TimedOut,

    /// <summary>The application aborted the connection (we sent a RST).</summary>
    Aborted,
}
