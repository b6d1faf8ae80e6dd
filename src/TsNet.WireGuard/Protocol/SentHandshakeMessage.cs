namespace TsNet.WireGuard.Protocol;

/// <summary>
/// A copy of the last handshake message (initiation or response) sent to a peer, so that a path that just started to
/// work can carry the very same message again (<see cref="WireGuardEndpoint.HandshakeOnNewPath"/>). A copy is a
/// retransmission, not a new handshake: the receiver drops a duplicate initiation as a replay and a duplicate response
/// as an unknown index, so re-sending never replaces a handshake state the other side may be answering.
/// </summary>
internal sealed class SentHandshakeMessage
{
    private readonly byte[] _bytes = new byte[MessageLayout.InitiationSize];

    /// <summary>True for an initiation, false for a response.</summary>
    public bool IsInitiation { get; private set; }

    /// <summary>The sender index the message carries (our handshake's or, for a response, our next keypair's index).</summary>
    public uint LocalIndex { get; private set; }

    /// <summary>Core time the message was first sent.</summary>
    public long SentAt { get; private set; } = Timestamps.Never;

    /// <summary>The message as sent (empty before the first).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, Length);

    private int Length { get; set; }

    /// <summary>Keeps a copy of <paramref name="message"/> (an initiation or a response, at most 148 bytes).</summary>
    public void Record(ReadOnlySpan<byte> message, bool isInitiation, uint localIndex, long now)
    {
        message.CopyTo(_bytes);
        Length = message.Length;
        IsInitiation = isInitiation;
        LocalIndex = localIndex;
        SentAt = now;
    }

    /// <summary>Forgets the message (the handshake it belonged to is gone).</summary>
    public void Clear()
    {
        Length = 0;
        SentAt = Timestamps.Never;
    }
}
