using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// Sans-IO client of one relay endpoint (tailscale's <c>relaymanager</c> handshake, protocol notes §4.4): writes the
/// Bind sent to every candidate address of the server, answers the first valid Challenge, and frames traffic for the
/// remote peer through the relay (Geneve without the control bit). One instance per handshake generation; the
/// caller sends what it writes, to the addresses it says, and keeps the timers (handshake lifetime min(bind lifetime, 30 s)).
/// Not thread-safe: one owner (the dataplane loop) drives it.
/// </summary>
internal sealed class RelayHandshakeClient
{
    private readonly byte[] _publicKey;
    private readonly byte[] _serverKey;
    private readonly byte[] _remoteKey;
    private readonly byte[] _serverShared = new byte[NaClBox.KeySize];
    private readonly byte[] _remoteShared = new byte[NaClBox.KeySize];

    /// <param name="privateKey">This client's disco private key.</param>
    /// <param name="serverKey">The relay server's disco public key.</param>
    /// <param name="remoteKey">The other client's disco public key.</param>
    /// <param name="vni">The endpoint's VNI.</param>
    /// <param name="generation">Non-zero, new per handshake (see <see cref="NextGeneration"/>).</param>
    public RelayHandshakeClient(ReadOnlySpan<byte> privateKey, DiscoKey serverKey, DiscoKey remoteKey, uint vni, uint generation)
    {
        if (generation == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(generation), "Generation 0 means 'none'.");
        }

        if (vni is 0 or > GeneveHeader.MaxVni)
        {
            throw new ArgumentOutOfRangeException(nameof(vni));
        }

        _publicKey = new byte[DiscoKey.Size];
        X25519.DerivePublicKey(privateKey, _publicKey);
        _serverKey = serverKey.Bytes.ToArray();
        _remoteKey = remoteKey.Bytes.ToArray();
        if (!NaClBox.TryPrecompute(privateKey, _serverKey, _serverShared) || !NaClBox.TryPrecompute(privateKey, _remoteKey, _remoteShared))
        {
            throw new ArgumentException("A disco key is a low-order point.");
        }

        Vni = vni;
        Generation = generation;
    }

    public uint Vni { get; }

    public uint Generation { get; }

    public RelayHandshakeClientState State { get; private set; }

    /// <summary>The server address whose Challenge was answered (set in <see cref="RelayHandshakeClientState.AnswerSent"/>).</summary>
    public UnderlayAddress ServerAddress { get; private set; }

    /// <summary>Length of a Bind or Answer datagram.</summary>
    public const int HandshakeDatagramLength = GeneveHeader.Length + DiscoPacket.Overhead + BindUdpRelayEndpointCommon.MessageLength;

    /// <summary>Advances a per-client generation counter, skipping 0; returns the new value.</summary>
    public static uint NextGeneration(ref uint counter)
    {
        uint next = unchecked(Interlocked.Increment(ref counter));
        return next != 0 ? next : unchecked(Interlocked.Increment(ref counter));
    }

    /// <summary>Writes a Bind datagram (send one to every candidate address); returns its length.</summary>
    public int WriteBind(Span<byte> destination)
    {
        var common = new BindUdpRelayEndpointCommon { Vni = Vni, Generation = Generation, RemoteKey = Bytes32.From(_remoteKey) };
        int length = WriteControl(ref common, DiscoMessageType.BindUdpRelayEndpoint, destination);
        if (State == RelayHandshakeClientState.Init)
        {
            State = RelayHandshakeClientState.BindSent;
        }

        return length;
    }

    /// <summary>
    /// Handles a Geneve control datagram from <paramref name="from"/>. The first valid Challenge (from the server,
    /// for this VNI, generation and remote key) writes the Answer into <paramref name="answer"/> (at least
    /// <see cref="HandshakeDatagramLength"/> bytes), to be sent back to <paramref name="from"/>; returns its length,
    /// or 0 when the datagram is ignored. After answering, a disco Ping to the remote peer through the same path
    /// (<see cref="WritePeerDisco"/>) shows whether the server accepted the Answer.
    /// </summary>
    public int HandleChallenge(ReadOnlySpan<byte> datagram, UnderlayAddress from, Span<byte> answer)
    {
        if (State == RelayHandshakeClientState.AnswerSent
            || !GeneveHeader.TryDecode(datagram, out var geneve)
            || !geneve.Control || geneve.Protocol != GeneveHeader.ProtocolDisco || geneve.Vni != Vni
            || !DiscoPacket.TryParse(datagram[GeneveHeader.Length..], out var sender, out var nonce, out var box)
            || !sender.SequenceEqual(_serverKey)
            || box.Length - NaClBox.Overhead is < BindUdpRelayEndpointCommon.MessageLength or > RelayServerCore.MaxInnerLength)
        {
            return 0;
        }

        Span<byte> inner = stackalloc byte[RelayServerCore.MaxInnerLength];
        int innerLength = DiscoPacket.Open(_serverShared, nonce, box, inner);
        if (innerLength < 0
            || !DiscoPacket.TryReadMessageHeader(inner[..innerLength], out var type, out _, out var body)
            || type != DiscoMessageType.BindUdpRelayEndpointChallenge
            || !BindUdpRelayEndpointCommon.TryParse(body, out var common)
            || common.Vni != Vni || common.Generation != Generation
            || !((ReadOnlySpan<byte>)common.RemoteKey).SequenceEqual(_remoteKey))
        {
            return 0;
        }

        int length = WriteControl(ref common, DiscoMessageType.BindUdpRelayEndpointAnswer, answer);
        State = RelayHandshakeClientState.AnswerSent;
        ServerAddress = from;
        return length;
    }

    /// <summary>Frames a WireGuard message for the relay: Geneve (data, protocol WireGuard, VNI) then the bytes.</summary>
    public int WrapWireGuard(ReadOnlySpan<byte> message, Span<byte> destination)
    {
        new GeneveHeader(0, false, GeneveHeader.ProtocolWireGuard, Vni).Encode(destination);
        message.CopyTo(destination[GeneveHeader.Length..]);
        return GeneveHeader.Length + message.Length;
    }

    /// <summary>
    /// Frames a disco message (<paramref name="inner"/> = type ‖ version ‖ body) for the remote peer through the relay:
    /// Geneve (data, protocol disco, VNI) then a disco packet sealed to the remote peer.
    /// </summary>
    public int WritePeerDisco(ReadOnlySpan<byte> inner, Span<byte> destination)
    {
        new GeneveHeader(0, false, GeneveHeader.ProtocolDisco, Vni).Encode(destination);
        return GeneveHeader.Length + DiscoPacket.Seal(_publicKey, _remoteShared, inner, destination[GeneveHeader.Length..]);
    }

    /// <summary>
    /// Opens a relayed disco message from the remote peer (Geneve data, protocol disco, this VNI, sender = remote)
    /// into <paramref name="inner"/>; returns the inner length or −1.
    /// </summary>
    public int OpenPeerDisco(ReadOnlySpan<byte> datagram, Span<byte> inner)
    {
        if (!GeneveHeader.TryDecode(datagram, out var geneve) || geneve.Control || geneve.Protocol != GeneveHeader.ProtocolDisco || geneve.Vni != Vni
            || !DiscoPacket.TryParse(datagram[GeneveHeader.Length..], out var sender, out var nonce, out var box)
            || !sender.SequenceEqual(_remoteKey))
        {
            return -1;
        }

        return DiscoPacket.Open(_remoteShared, nonce, box, inner);
    }

    private int WriteControl(ref BindUdpRelayEndpointCommon common, DiscoMessageType type, Span<byte> destination)
    {
        Span<byte> inner = stackalloc byte[BindUdpRelayEndpointCommon.MessageLength];
        common.WriteMessage(type, inner);
        new GeneveHeader(0, true, GeneveHeader.ProtocolDisco, Vni).Encode(destination);
        int length = GeneveHeader.Length + DiscoPacket.Seal(_publicKey, _serverShared, inner, destination[GeneveHeader.Length..]);
        CryptographicOperations.ZeroMemory(inner);
        return length;
    }
}
