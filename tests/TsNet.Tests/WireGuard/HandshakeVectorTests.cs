using System.Buffers.Binary;
using TsNet.Packets.Buffers;
using TsNet.Tests.Crypto;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>The deterministic handshake transcript of wireguard.md §10.2, reproduced byte for byte.</summary>
public sealed class HandshakeVectorTests
{
    private static readonly byte[] s_initiatorPrivate = Hex.Decode("0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60");
    private static readonly byte[] s_initiatorPublic = Hex.Decode("07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c");
    private static readonly byte[] s_responderPrivate = Hex.Decode("2022232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40");
    private static readonly byte[] s_responderPublic = Hex.Decode("5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b");
    private static readonly byte[] s_initiatorEphemeral = Hex.Decode("4042434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60");
    private static readonly byte[] s_responderEphemeral = Hex.Decode("6062636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f40");
    private const uint InitiatorIndex = 0x11223344;
    private const uint ResponderIndex = 0x55667788;

    private const string Message1 =
        "010000004433221164b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466" +
        "158a0e4ca242d151ca97ab90159a98b67e616625e68b4065d357376b6598e644ad7d678c0295d22d" +
        "e4cb43d5135581ed36346bfa7cf42a122639f89315e67f2b43de40f99f8e6be9135e1632d45237be" +
        "41c55cffa3e7b390a525fe6500000000000000000000000000000000";

    private const string Message2 =
        "020000008877665544332211244fe3b963e899dd295baffce248d3530f3a9a7479ba063002680ebf" +
        "e7adad496b48bcfdb2fa6808c058f0c9ef1c288f61de79709cc8330de3922e40997dbf4a00000000" +
        "000000000000000000000000";

    [Fact]
    public void InitialChainKeyAndHash_MatchReference()
    {
        Hex.Encode(NoiseConstants.InitialChainKey).Should().Be("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
        Hex.Encode(NoiseConstants.InitialHash).Should().Be("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
    }

    [Fact]
    public void Tai64N_MasksNanosecondsAndEncodesBigEndian()
    {
        var timestamp = new byte[Tai64N.Size];
        var time = DateTimeOffset.FromUnixTimeSeconds(1700000000).AddTicks(123456789 / 100);
        Tai64N.Write(time, timestamp);
        Hex.Encode(timestamp).Should().Be("400000006553f10a07000000");
    }

    [Fact]
    public void FullHandshake_ReproducesReferenceMessagesAndKeys()
    {
        // Initiator builds message 1.
        var staticStatic = new byte[32];
        X25519.TrySharedSecret(s_initiatorPrivate, s_responderPublic, staticStatic).Should().BeTrue();
        Hex.Encode(staticStatic).Should().Be("a84dc7c3c8f058b1b2dc4cd1e9b5dc0a7987f88b6a9564cde3391fc421159e77");

        var timestamp = Hex.Decode("400000006553f10a07000000");
        var initiatorHandshake = new Handshake();
        var message1 = new byte[MessageLayout.InitiationSize];
        NoiseProtocol.CreateInitiation(s_initiatorPublic, s_responderPublic, staticStatic, initiatorHandshake,
            s_initiatorEphemeral, timestamp, InitiatorIndex, message1).Should().BeTrue();
        new CookieGenerator(s_responderPublic).AddMacs(message1, now: 0, TimeSpan.FromSeconds(120));
        Hex.Encode(message1).Should().Be(Message1);
        Hex.Encode(initiatorHandshake.Hash).Should().Be("353febbefe8c2cae0679c83d17454fd3e9376c67a1e075c774a33b1aa1ce1576");
        Hex.Encode(initiatorHandshake.ChainKey).Should().Be("643693a7636a42b588f115bc0aae9a1db8432634b2e8d96ed67d308e74e132f5");

        // Responder consumes it.
        new CookieChecker(s_responderPublic).CheckMac1(message1).Should().BeTrue();
        var chainKey = new byte[32];
        var hash = new byte[32];
        var recoveredStatic = new byte[32];
        NoiseProtocol.TryOpenInitiationStatic(new X25519StaticKey(s_responderPrivate), s_responderPublic, message1, chainKey, hash, recoveredStatic).Should().BeTrue();
        recoveredStatic.Should().Equal(s_initiatorPublic);
        var recoveredTimestamp = new byte[Tai64N.Size];
        NoiseProtocol.TryFinishInitiation(staticStatic, message1, chainKey, hash, recoveredTimestamp).Should().BeTrue();
        recoveredTimestamp.Should().Equal(timestamp);
        Hex.Encode(hash).Should().Be("353febbefe8c2cae0679c83d17454fd3e9376c67a1e075c774a33b1aa1ce1576");

        var responderHandshake = new Handshake { State = HandshakeState.InitiationConsumed, RemoteIndex = InitiatorIndex };
        chainKey.CopyTo(responderHandshake.ChainKey);
        hash.CopyTo(responderHandshake.Hash);
        message1.AsSpan(MessageLayout.InitiationEphemeral, 32).CopyTo(responderHandshake.RemoteEphemeral);

        var message2 = new byte[MessageLayout.ResponseSize];
        NoiseProtocol.CreateResponse(responderHandshake, s_initiatorPublic, new byte[32], s_responderEphemeral, ResponderIndex, message2).Should().BeTrue();
        new CookieGenerator(s_initiatorPublic).AddMacs(message2, now: 0, TimeSpan.FromSeconds(120));
        Hex.Encode(message2).Should().Be(Message2);
        Hex.Encode(responderHandshake.Hash).Should().Be("1373946d6b5d0038e69ac1a72a59e42700e8b48e48144b78722e9336380578ab");

        // Initiator consumes message 2.
        NoiseProtocol.ConsumeResponse(initiatorHandshake, new X25519StaticKey(s_initiatorPrivate), new byte[32], message2).Should().BeTrue();
        initiatorHandshake.RemoteIndex.Should().Be(ResponderIndex);
        initiatorHandshake.ChainKey.Should().Equal(responderHandshake.ChainKey);
        Hex.Encode(initiatorHandshake.ChainKey).Should().Be("b798cb0d698b0fad7db1cbf5aea4f6d50c5fdecdba893d07d92a49b0fac83fce");

        var t1 = new byte[32];
        var t2 = new byte[32];
        NoiseProtocol.DeriveTransportKeys(initiatorHandshake.ChainKey, t1, t2);
        Hex.Encode(t1).Should().Be("c5f330b6dc92c8bd4124800733b33cd9d7e5dd2ac8c782e1b558f9b2b60804d8");
        Hex.Encode(t2).Should().Be("df0e53eac779a4c1ab023907c8dda549efdbf8ca9a4ce931ba1d27a2a8be73f9");
    }

    [Fact]
    public void ConsumeResponse_WithWrongPresharedKey_Fails()
    {
        var staticStatic = new byte[32];
        X25519.TrySharedSecret(s_initiatorPrivate, s_responderPublic, staticStatic);
        var initiator = new Handshake();
        var message1 = new byte[MessageLayout.InitiationSize];
        NoiseProtocol.CreateInitiation(s_initiatorPublic, s_responderPublic, staticStatic, initiator, s_initiatorEphemeral, Hex.Decode("400000006553f10a07000000"), 1, message1);
        var responder = new Handshake { State = HandshakeState.InitiationConsumed, RemoteIndex = 1 };
        initiator.ChainKey.CopyTo(responder.ChainKey);
        initiator.Hash.CopyTo(responder.Hash);
        message1.AsSpan(8, 32).CopyTo(responder.RemoteEphemeral);
        var message2 = new byte[MessageLayout.ResponseSize];
        var psk = Hex.Range(1, 32);
        NoiseProtocol.CreateResponse(responder, s_initiatorPublic, psk, s_responderEphemeral, 2, message2);

        NoiseProtocol.ConsumeResponse(initiator, new X25519StaticKey(s_initiatorPrivate), new byte[32], message2).Should().BeFalse();
        initiator.State.Should().Be(HandshakeState.InitiationCreated, "a failed response leaves the handshake untouched");
        NoiseProtocol.ConsumeResponse(initiator, new X25519StaticKey(s_initiatorPrivate), psk, message2).Should().BeTrue();
    }

    [Fact]
    public void TransportMessages_MatchReference()
    {
        var t1 = Hex.Decode("c5f330b6dc92c8bd4124800733b33cd9d7e5dd2ac8c782e1b558f9b2b60804d8");
        using var keepaliveCipher = TransportCipher.Create(t1);
        var buffer = new PacketBufferPool().Rent();
        var tag = buffer.Append(16);
        keepaliveCipher.Seal(0, Span<byte>.Empty, tag);
        var header = buffer.Prepend(16);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], ResponderIndex);
        Hex.Encode(buffer.Span).Should().Be("04000000887766550000000000000000fd3ffdf38f1bfad20a6fdb169d83d3d3");

        WireGuardEndpoint.PaddingSize(20, 1280).Should().Be(12);
        WireGuardEndpoint.PaddingSize(0, 1280).Should().Be(0);
        WireGuardEndpoint.PaddingSize(1279, 1280).Should().Be(1);
        WireGuardEndpoint.PaddingSize(1275, 1278).Should().Be(3, "padding never goes past the MTU");
        WireGuardEndpoint.PaddingSize(33, 0).Should().Be(15);
    }

    [Fact]
    public void CookieReply_MatchesReferenceAndYieldsMac2()
    {
        var checker = new CookieChecker(s_responderPublic);
        checker.SetSecret(Hex.Decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"), now: 0);
        var source = UnderlayAddress.FromIPv4(new byte[] { 192, 0, 2, 1 }, 51820);
        var encoded = new byte[UnderlayAddress.MaxEncodedLength];
        Hex.Encode(encoded.AsSpan(0, source.EncodeForCookie(encoded))).Should().Be("c00002016cca");

        var message1 = Hex.Decode(Message1);
        var reply = new byte[MessageLayout.CookieReplySize];
        checker.CreateReply(message1, InitiatorIndex, source, Hex.Decode("d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7"), reply);
        Hex.Encode(reply).Should().Be(
            "0300000044332211d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7" +
            "9fd348538cadbbd92c2304fcb1c0b26bb839f4e198ad7efecceb983661771f1f");

        // The initiator's generator (which sent MESSAGE1's mac1) accepts the reply and then adds the reference mac2.
        var generator = new CookieGenerator(s_responderPublic);
        var resent = Hex.Decode(Message1);
        generator.AddMacs(resent, now: 0, TimeSpan.FromSeconds(120));
        generator.ConsumeReply(reply, now: 1).Should().BeTrue();
        generator.AddMacs(resent, now: 2, TimeSpan.FromSeconds(120));
        Hex.Encode(resent.AsSpan(132, 16)).Should().Be("52b9647fce3bc12646f9ea5d43775f8b");
        checker.CheckMac2(resent, source, now: 3, TimeSpan.FromSeconds(120)).Should().BeTrue();
        checker.CheckMac2(resent, UnderlayAddress.FromIPv4(new byte[] { 192, 0, 2, 1 }, 51821), now: 3, TimeSpan.FromSeconds(120))
            .Should().BeFalse("the cookie is bound to the source address and port");
        checker.CheckMac2(resent, source, now: TimeSpan.FromSeconds(121).Ticks, TimeSpan.FromSeconds(120))
            .Should().BeFalse("a secret older than two minutes no longer validates");
    }

    [Fact]
    public void CookieReply_WithWrongMac1_IsRejected()
    {
        var checker = new CookieChecker(s_responderPublic);
        checker.SetSecret(Hex.Range(0, 31), 0);
        var generator = new CookieGenerator(s_responderPublic);
        var reply = new byte[MessageLayout.CookieReplySize];
        var message = Hex.Decode(Message1);
        checker.CreateReply(message, 1, UnderlayAddress.FromIPv4(new byte[] { 127, 0, 0, 1 }, 1), Hex.Range(0, 23), reply);
        generator.ConsumeReply(reply, 0).Should().BeFalse("no handshake message was sent yet");
        var other = Hex.Decode(Message1);
        other[20] ^= 1;
        generator.AddMacs(other, 0, TimeSpan.FromSeconds(120));
        generator.ConsumeReply(reply, 0).Should().BeFalse("the reply is bound to another message's mac1");
    }
}
