using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TsNet.WireGuard.Crypto;

namespace TsNet.Control.Transport;

/// <summary>
/// The client (initiator) side of the ts2021 Noise IK handshake, sans-IO (protocol doc §5.3–§5.6): build the
/// 101-byte initiation, then feed it the server's answer. One instance per handshake attempt.
/// </summary>
/// <remarks>
/// Pipeline: <c>-> e, es, s, ss</c> in the constructor (<see cref="Initiation"/>), <c>&lt;- e, ee, se</c> in
/// <see cref="ReadResponse"/>, then Split. The server's answer starts with a 3-byte header that
/// <see cref="ParseServerHeader"/> checks before any payload is read, so a reader never buffers more than the
/// header announces and never more than one frame.
/// </remarks>
internal sealed class ControlHandshake
{
    private readonly MachinePrivateKey _machineKey;
    private readonly MachinePublicKey _controlKey;
    private readonly byte[] _ephemeralPrivate = new byte[X25519.KeySize];
    private readonly NoiseSymmetricState _state;
    private bool _done;

    /// <param name="machineKey">The device's machine key (Noise static).</param>
    /// <param name="controlKey">The server's Noise key from <c>/key</c>.</param>
    /// <param name="protocolVersion">Goes in the initiation header and the prologue (the capability version).</param>
    /// <param name="ephemeralPrivate">Fixed ephemeral for known-answer tests; empty = fresh random.</param>
    public ControlHandshake(MachinePrivateKey machineKey, MachinePublicKey controlKey, ushort protocolVersion, ReadOnlySpan<byte> ephemeralPrivate = default)
    {
        if (controlKey.IsZero)
        {
            throw new ArgumentException("the control server's public key is zero", nameof(controlKey));
        }

        _machineKey = machineKey;
        _controlKey = controlKey;
        ProtocolVersion = protocolVersion;
        if (ephemeralPrivate.IsEmpty)
        {
            X25519.GeneratePrivateKey(_ephemeralPrivate);
        }
        else if (ephemeralPrivate.Length == X25519.KeySize)
        {
            ephemeralPrivate.CopyTo(_ephemeralPrivate);
        }
        else
        {
            throw new ArgumentException($"ephemeral keys are {X25519.KeySize} bytes", nameof(ephemeralPrivate));
        }

        _state = new NoiseSymmetricState(ControlNoise.Prologue(protocolVersion));
        Initiation = BuildInitiation();
    }

    public ushort ProtocolVersion { get; }

    /// <summary>The 101-byte initiation (goes base64 into <c>X-Tailscale-Handshake</c>).</summary>
    public byte[] Initiation { get; }

    /// <summary>
    /// Checks the 3-byte header of the server's first message and returns its payload length. A response must
    /// announce exactly 48 bytes; an error message at most one frame.
    /// </summary>
    /// <exception cref="ControlTransportException">Unknown type or impossible length.</exception>
    public static int ParseServerHeader(ReadOnlySpan<byte> header, out byte type)
    {
        if (header.Length < ControlNoise.HeaderSize)
        {
            throw new ArgumentException("a header is 3 bytes", nameof(header));
        }

        type = header[0];
        int length = BinaryPrimitives.ReadUInt16BigEndian(header[1..3]);
        return type switch
        {
            ControlNoise.ResponseType when length == ControlNoise.ResponsePayloadSize => length,
            ControlNoise.ResponseType => throw new ControlTransportException($"handshake response announces {length} bytes, expected {ControlNoise.ResponsePayloadSize}"),
            ControlNoise.ErrorType when length <= ControlNoise.MaxErrorTextSize => length,
            ControlNoise.ErrorType => throw new ControlTransportException($"handshake error message announces {length} bytes, more than one frame"),
            _ => throw new ControlTransportException($"unexpected handshake message type {type} from the server"),
        };
    }

    /// <summary>The exception for a type-3 error message (unauthenticated: a hint only).</summary>
    public static ControlTransportException ServerError(ReadOnlySpan<byte> errorPayload)
        => new($"control server refused the handshake: server error: \"{Encoding.UTF8.GetString(errorPayload)}\"");

    /// <summary>
    /// Completes the handshake with the 51-byte response message (header included), or throws for a type-3
    /// error message or anything that fails to authenticate.
    /// </summary>
    /// <exception cref="ControlTransportException">Error message, wrong size/type, or the response does not authenticate.</exception>
    public ControlSessionKeys ReadResponse(ReadOnlySpan<byte> message)
    {
        if (_done)
        {
            throw new InvalidOperationException("the handshake has already read its response");
        }

        if (message.Length < ControlNoise.HeaderSize)
        {
            throw new ControlTransportException($"handshake response truncated at {message.Length} bytes");
        }

        int length = ParseServerHeader(message, out byte type);
        if (message.Length - ControlNoise.HeaderSize != length)
        {
            throw new ControlTransportException($"handshake message has {message.Length - ControlNoise.HeaderSize} payload bytes, header says {length}");
        }

        ReadOnlySpan<byte> payload = message[ControlNoise.HeaderSize..];
        if (type == ControlNoise.ErrorType)
        {
            throw ServerError(payload);
        }

        _done = true;
        ReadOnlySpan<byte> responderEphemeral = payload[..ControlNoise.KeySize];
        ReadOnlySpan<byte> tag = payload[ControlNoise.KeySize..];
        try
        {
            _state.MixHash(responderEphemeral);                       // <- e
            _state.MixDh(_ephemeralPrivate, responderEphemeral);        // ee
            _state.MixDh(_machineKey.Bytes, responderEphemeral);        // se
            if (!_state.TryDecryptAndHash(tag, []))
            {
                throw new ControlTransportException("handshake response does not authenticate (wrong server key or tampered response)");
            }

            byte[] handshakeHash = _state.Hash.ToArray();
            var (c1, c2) = _state.Split();
            return new ControlSessionKeys(c1, c2, handshakeHash, _controlKey, ProtocolVersion);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(_ephemeralPrivate);
        }
    }

    private byte[] BuildInitiation()
    {
        byte[] message = new byte[ControlNoise.InitiationSize];
        BinaryPrimitives.WriteUInt16BigEndian(message, ProtocolVersion);
        message[2] = ControlNoise.InitiationType;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(3), ControlNoise.InitiationPayloadSize);

        Span<byte> ephemeralPublic = message.AsSpan(ControlNoise.InitiationHeaderSize, ControlNoise.KeySize);
        Span<byte> encryptedStatic = message.AsSpan(ControlNoise.InitiationHeaderSize + ControlNoise.KeySize, ControlNoise.KeySize + ControlNoise.TagSize);
        Span<byte> tag = message.AsSpan(ControlNoise.InitiationSize - ControlNoise.TagSize);

        _state.MixHash(_controlKey.Bytes);                            // <- s (pre-message)
        X25519.DerivePublicKey(_ephemeralPrivate, ephemeralPublic);
        _state.MixHash(ephemeralPublic);                              // -> e
        _state.MixDh(_ephemeralPrivate, _controlKey.Bytes);           // es
        _state.EncryptAndHash(_machineKey.PublicKey.Bytes, encryptedStatic); // s
        _state.MixDh(_machineKey.Bytes, _controlKey.Bytes);           // ss
        _state.EncryptAndHash([], tag);
        return message;
    }
}
