namespace TsNet;

/// <summary>Why a <see cref="UdpRelayServer"/> dropped a datagram. Every drop is silent on the wire and counted.</summary>
public enum UdpRelayDropReason
{
    /// <summary>Shorter than a Geneve header.</summary>
    Malformed = 0,

    /// <summary>A STUN message (the server does no address discovery of its own).</summary>
    Stun,

    /// <summary>No endpoint has the packet's VNI.</summary>
    UnknownVni,

    /// <summary>The endpoint's lifetime ran out.</summary>
    EndpointExpired,

    /// <summary>A control packet that is not a disco message.</summary>
    NotDisco,

    /// <summary>The disco sender is neither client of the endpoint (wrong key).</summary>
    UnknownSender,

    /// <summary>The disco box did not open.</summary>
    DecryptFailed,

    /// <summary>A disco message too short or too long for its type.</summary>
    MalformedMessage,

    /// <summary>A disco message other than Bind or Answer.</summary>
    UnexpectedMessage,

    /// <summary>Bind or Answer with a wrong VNI, remote key or a zero generation.</summary>
    InvalidBind,

    /// <summary>Answer without a matching Bind generation in progress.</summary>
    StaleAnswer,

    /// <summary>Answer whose challenge does not verify for its source address.</summary>
    ChallengeMismatch,

    /// <summary>Data before both clients are bound.</summary>
    NotBound,

    /// <summary>Data from an address that is not one of the two bound addresses.</summary>
    UnknownSource,
}
