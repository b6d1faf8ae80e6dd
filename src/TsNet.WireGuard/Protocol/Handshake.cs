using System.Security.Cryptography;

namespace TsNet.WireGuard.Protocol;

/// <summary>One peer's in-progress Noise IKpsk2 handshake and its replay/flood memory.</summary>
internal sealed class Handshake
{
    public HandshakeState State { get; set; }

    /// <summary>Noise chaining key C.</summary>
    public byte[] ChainKey { get; } = new byte[32];

    /// <summary>Noise transcript hash H.</summary>
    public byte[] Hash { get; } = new byte[32];

    public byte[] LocalEphemeralPrivate { get; } = new byte[32];

    public byte[] RemoteEphemeral { get; } = new byte[32];

    /// <summary>Our index for this handshake (0 = none).</summary>
    public uint LocalIndex { get; set; }

    /// <summary>The other side's index for this handshake.</summary>
    public uint RemoteIndex { get; set; }

    /// <summary>Largest TAI64N accepted from this peer: initiations must be strictly later (replay rule).</summary>
    public byte[] LastTimestamp { get; } = new byte[Tai64N.Size];

    /// <summary>When we last consumed an initiation from this peer (flood rule); <see cref="Timestamps.Never"/> at first.</summary>
    public long LastInitiationConsumption { get; set; } = Timestamps.Never;

    /// <summary>When we last sent an initiation or a response (initiation throttle).</summary>
    public long LastSentHandshake { get; set; } = Timestamps.Never;

    /// <summary>Wipes ephemeral secrets and the transcript; keeps the replay/flood memory (as wireguard-go).</summary>
    public void Clear()
    {
        CryptographicOperations.ZeroMemory(LocalEphemeralPrivate);
        CryptographicOperations.ZeroMemory(RemoteEphemeral);
        CryptographicOperations.ZeroMemory(ChainKey);
        CryptographicOperations.ZeroMemory(Hash);
        LocalIndex = 0;
        State = HandshakeState.Zeroed;
    }
}
