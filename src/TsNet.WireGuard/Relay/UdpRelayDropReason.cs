namespace TsNet;

/// <summary>Why a <c>UdpRelayServer</c> dropped a datagram. Every drop is silent on the wire and counted.</summary>
public enum UdpRelayDropReason
{
    /// <summary>Shorter than a Geneve header.</summary>
    Malformed = 0,

    /// <summary>A STUN message: the server does no address discovery of its own, so none are expected.</summary>
    Stun,

    /// <summary>No endpoint has the packet's VNI.</summary>
    UnknownVni,

    /// <summary>The endpoint's lifetime ran out (it is freed at the next collection).</summary>
    EndpointExpired,

    /// <summary>A control packet whose protocol is not disco, or whose payload is not disco-shaped.</summary>
    NotDisco,

    /// <summary>The disco sender key is neither of the endpoint's two clients.</summary>
    UnknownSender,

    /// <summary>The NaCl box did not open (wrong key, tampering, truncation).</summary>
    DecryptFailed,

    /// <summary>The inner payload is too short or too long for its type.</summary>
    MalformedMessage,

    /// <summary>A disco message the server does not take (anything but Bind and Answer).</summary>
    UnexpectedMessage,

    /// <summary>Bind or Answer whose VNI, remote key or generation is wrong.</summary>
    InvalidBind,

    /// <summary>Answer without a Bind of the same generation in progress (stale or out of order).</summary>
    StaleAnswer,

    /// <summary>Answer whose challenge does not verify for its source address.</summary>
    ChallengeMismatch,

    /// <summary>Data before both legs are bound.</summary>
    NotBound,

    /// <summary>Data from an address that is not one of the endpoint's two bound addresses.</summary>
    UnknownSource,
}
