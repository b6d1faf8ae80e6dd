using System.Buffers.Binary;
using TsNet.Control.Transport;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Control.Transport;

/// <summary>
/// The server (responder) side of Noise IK for tests only: reads an initiation payload, answers with a fixed or
/// random ephemeral, and yields the server's transport keys (send = c2, receive = c1).
/// </summary>
internal sealed class TestNoiseResponder
{
    private readonly byte[] _staticPrivate;
    private readonly byte[] _ephemeralPrivate;
    private readonly NoiseSymmetricState _state;
    private byte[]? _initiatorStatic;

    public TestNoiseResponder(ReadOnlySpan<byte> prologue, ReadOnlySpan<byte> staticPrivate, ReadOnlySpan<byte> ephemeralPrivate = default)
    {
        _staticPrivate = staticPrivate.ToArray();
        _ephemeralPrivate = new byte[32];
        if (ephemeralPrivate.IsEmpty)
        {
            X25519.GeneratePrivateKey(_ephemeralPrivate);
        }
        else
        {
            ephemeralPrivate.CopyTo(_ephemeralPrivate);
        }

        StaticPublic = new byte[32];
        X25519.DerivePublicKey(_staticPrivate, StaticPublic);
        _state = new NoiseSymmetricState(prologue);
        _state.MixHash(StaticPublic);
    }

    public byte[] StaticPublic { get; }

    /// <summary>The initiator's static key recovered from the initiation.</summary>
    public byte[] InitiatorStatic => _initiatorStatic ?? throw new InvalidOperationException("no initiation read yet");

    public byte[] HandshakeHash { get; private set; } = [];

    public byte[] InitiatorToResponder { get; private set; } = [];

    public byte[] ResponderToInitiator { get; private set; } = [];

    /// <summary>For a full ts2021 initiation: checks the 5-byte header and returns the version, or throws.</summary>
    public static ushort ParseInitiationHeader(ReadOnlySpan<byte> initiation)
    {
        if (initiation.Length != ControlNoise.InitiationSize || initiation[2] != ControlNoise.InitiationType
            || BinaryPrimitives.ReadUInt16BigEndian(initiation[3..5]) != ControlNoise.InitiationPayloadSize)
        {
            throw new InvalidDataException("wrong handshake initiation");
        }

        return BinaryPrimitives.ReadUInt16BigEndian(initiation);
    }

    /// <summary>Processes the 96-byte payload (e ‖ enc(s) ‖ tag); false when it does not authenticate.</summary>
    public bool TryReadInitiation(ReadOnlySpan<byte> payload)
    {
        ReadOnlySpan<byte> ephemeral = payload[..32];
        _state.MixHash(ephemeral);
        _state.MixDh(_staticPrivate, ephemeral);                     // es
        byte[] initiatorStatic = new byte[32];
        if (!_state.TryDecryptAndHash(payload.Slice(32, 48), initiatorStatic))
        {
            return false;
        }

        _state.MixDh(_staticPrivate, initiatorStatic);                // ss
        if (!_state.TryDecryptAndHash(payload.Slice(80, 16), []))
        {
            return false;
        }

        _initiatorStatic = initiatorStatic;
        _initiatorEphemeral = ephemeral.ToArray();
        return true;
    }

    private byte[] _initiatorEphemeral = [];

    /// <summary>The 48-byte response payload (e ‖ tag); sets the transport keys.</summary>
    public byte[] WriteResponse()
    {
        byte[] payload = new byte[48];
        X25519.DerivePublicKey(_ephemeralPrivate, payload.AsSpan(0, 32));
        _state.MixHash(payload.AsSpan(0, 32));                        // e
        _state.MixDh(_ephemeralPrivate, _initiatorEphemeral);          // ee
        _state.MixDh(_ephemeralPrivate, InitiatorStatic);             // se
        _state.EncryptAndHash([], payload.AsSpan(32, 16));
        HandshakeHash = _state.Hash.ToArray();
        (InitiatorToResponder, ResponderToInitiator) = _state.Split();
        return payload;
    }

    /// <summary>The server's view of the session: send c2, receive c1.</summary>
    public ControlSessionKeys ServerKeys(ushort version)
        => new(ResponderToInitiator, InitiatorToResponder, HandshakeHash, MachinePublicKey.FromBytes(InitiatorStatic), version);

    /// <summary>A full 51-byte response message (header ‖ payload).</summary>
    public byte[] WriteResponseMessage()
    {
        byte[] payload = WriteResponse();
        return [ControlNoise.ResponseType, 0x00, 0x30, .. payload];
    }
}
