namespace TsNet.WireGuard.Protocol;

/// <summary>WireGuard message types, sizes and field offsets (wireguard.md §2). All integers little-endian.</summary>
internal static class MessageLayout
{
    // Specification: message types (first byte; bytes 1..3 must be zero).
    public const uint TypeInitiation = 1;
    public const uint TypeResponse = 2;
    public const uint TypeCookieReply = 3;
    public const uint TypeTransport = 4;

    // Specification: sizes.
    public const int InitiationSize = 148;
    public const int ResponseSize = 92;
    public const int CookieReplySize = 64;
    public const int TransportHeaderSize = 16;
    public const int TagSize = 16;
    public const int KeepaliveSize = TransportHeaderSize + TagSize;

    /// <summary>wireguard-go drops anything shorter before looking at the type.</summary>
    public const int MinMessageSize = KeepaliveSize;

    public const int MaxMessageSize = 65535;
    public const int PaddingMultiple = 16;

    // Initiation (type 1).
    public const int InitiationSender = 4;
    public const int InitiationEphemeral = 8;
    public const int InitiationStatic = 40;
    public const int InitiationStaticLength = 32 + TagSize;
    public const int InitiationTimestamp = 88;
    public const int InitiationTimestampLength = Tai64N.Size + TagSize;
    public const int InitiationMac1 = 116;
    public const int InitiationMac2 = 132;

    // Response (type 2).
    public const int ResponseSender = 4;
    public const int ResponseReceiver = 8;
    public const int ResponseEphemeral = 12;
    public const int ResponseEmpty = 44;
    public const int ResponseMac1 = 60;
    public const int ResponseMac2 = 76;

    // Cookie reply (type 3).
    public const int CookieReceiver = 4;
    public const int CookieNonce = 8;
    public const int CookieNonceLength = 24;
    public const int CookieEncrypted = 32;
    public const int CookieEncryptedLength = 16 + TagSize;

    // Transport (type 4).
    public const int TransportReceiver = 4;
    public const int TransportCounter = 8;
    public const int TransportPayload = 16;

    public const int MacSize = 16;
}
