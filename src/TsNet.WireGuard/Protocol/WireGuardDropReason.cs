namespace TsNet.WireGuard.Protocol;

/// <summary>Why the core dropped a datagram or packet; each has a counter in <see cref="WireGuardCounters"/>.</summary>
internal enum WireGuardDropReason
{
    TooShort,
    UnknownType,
    BadHandshakeSize,
    InvalidMac1,
    UnderLoadCookieSent,
    RateLimited,
    InvalidInitiation,
    UnknownPeer,
    ReplayedInitiation,
    FloodedInitiation,
    InvalidResponse,
    InvalidCookieReply,
    UnknownReceiverIndex,
    KeypairExpired,
    DecryptionFailed,
    ReplayedCounter,
    InvalidInnerPacket,
    AllowedIpsMismatch,
    NoRoute,
    NoEndpoint,
    StagedQueueFull,
    HandshakeGaveUp,
    PeerUnusable,
    NoRoomForEncryption,
    KeysZeroed,
}
