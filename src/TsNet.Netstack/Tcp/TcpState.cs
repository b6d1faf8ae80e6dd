namespace TsNet.Netstack.Tcp;

/// <summary>Connection states of RFC 9293 §3.3.2 (LISTEN lives in the integration: it owns listeners).</summary>
internal enum TcpState
{
    /// <summary>No connection: never opened, or finished (see <see cref="TcpConnection.Error"/>).</summary>
    Closed,

    /// <summary>Our SYN is out; waiting for the peer's SYN.</summary>
    SynSent,

    /// <summary>A SYN arrived and ours is out (passive open, or simultaneous open); waiting for its ACK.</summary>
    SynReceived,

    /// <summary>Open in both directions.</summary>
    Established,

    /// <summary>We closed; our FIN is queued or unacknowledged.</summary>
    FinWait1,

    /// <summary>We closed and our FIN was acknowledged; waiting for the peer's FIN.</summary>
    FinWait2,

    /// <summary>The peer closed; we may still send.</summary>
    CloseWait,

    /// <summary>Both closed at once; waiting for the ACK of our FIN.</summary>
    Closing,

    /// <summary>The peer closed first, then we did; waiting for the ACK of our FIN.</summary>
    LastAck,

    /// <summary>Both FINs acknowledged; lingering to absorb stray segments (2·MSL, here 60 s).</summary>
    TimeWait,
}
