namespace TsNet.Control.Transport;

/// <summary>ts2021 ("controlbase") wire constants (protocol doc §5–§6).</summary>
internal static class ControlNoise
{
    // Specification.
    public const string ProtocolName = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
    public const string ProloguePrefix = "Tailscale Control Protocol v";

    public const byte InitiationType = 0x01;
    public const byte ResponseType = 0x02;
    public const byte ErrorType = 0x03;
    public const byte RecordType = 0x04;

    /// <summary>type(1) ‖ length(2, BE) before every message except the initiation.</summary>
    public const int HeaderSize = 3;

    /// <summary>The initiation has version(2, BE) in front of the usual header.</summary>
    public const int InitiationHeaderSize = 5;

    public const int KeySize = 32;
    public const int TagSize = 16;

    /// <summary>e.pub ‖ enc(s.pub) ‖ tag(empty payload).</summary>
    public const int InitiationPayloadSize = KeySize + KeySize + TagSize + TagSize;

    public const int InitiationSize = InitiationHeaderSize + InitiationPayloadSize;

    /// <summary>e.pub ‖ tag(empty payload).</summary>
    public const int ResponsePayloadSize = KeySize + TagSize;

    public const int ResponseSize = HeaderSize + ResponsePayloadSize;

    /// <summary>Largest frame on the wire, header included.</summary>
    public const int MaxFrameSize = 4096;

    public const int MaxCiphertextSize = MaxFrameSize - HeaderSize;

    /// <summary>4077: the most plaintext one record carries.</summary>
    public const int MaxPlaintextSize = MaxCiphertextSize - TagSize;

    // Implementation.

    /// <summary>An error message longer than this is not a plausible hint; a frame never exceeds 4096 bytes.</summary>
    public const int MaxErrorTextSize = MaxFrameSize - HeaderSize;

    public static byte[] Prologue(ushort protocolVersion)
        => System.Text.Encoding.ASCII.GetBytes(ProloguePrefix + protocolVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
