namespace TsNet.Derp;

/// <summary>Why the server reported a peer gone (PeerGone's optional reason byte; absent = <see cref="Disconnected"/>).</summary>
internal enum DerpPeerGoneReason : byte
{
    /// <summary>A peer that had sent us packets disconnected.</summary>
    Disconnected = 0x00,

    /// <summary>We sent to a key the server does not know.</summary>
    NotHere = 0x01,
}
