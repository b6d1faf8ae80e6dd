using System.Net;
using TsNet.Tests.Crypto;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Relay;

/// <summary>Every vector of tailscale-udprelay.md: Geneve headers, disco message marshalling (§2.2), full packets and the challenge MAC (§2.4).</summary>
public class DiscoMessageVectorTests
{
    private static readonly byte[] TxId = Hex.Range(0x01, 0x0c);

    [Theory]
    [InlineData(true, GeneveHeader.ProtocolDisco, 1u, "00807a1100000100")]
    [InlineData(false, GeneveHeader.ProtocolWireGuard, 1u, "00007a1200000100")]
    [InlineData(false, GeneveHeader.ProtocolDisco, 1u, "00007a1100000100")]
    public void Geneve_EncodesAndDecodesVectors(bool control, ushort protocol, uint vni, string hex)
    {
        var bytes = new byte[8];
        new GeneveHeader(0, control, protocol, vni).Encode(bytes);
        Hex.Encode(bytes).Should().Be(hex);
        GeneveHeader.TryDecode(bytes, out var decoded).Should().BeTrue();
        decoded.Should().Be(new GeneveHeader(0, control, protocol, vni));
        GeneveHeader.LooksLikeGeneve(bytes).Should().BeTrue();
    }

    [Fact]
    public void Geneve_RoundTripsVersion3ControlMaxVni_AndRejectsShortInput()
    {
        var header = new GeneveHeader(3, true, GeneveHeader.ProtocolDisco, GeneveHeader.MaxVni);
        var bytes = new byte[8];
        header.Encode(bytes);
        GeneveHeader.TryDecode(bytes, out var decoded).Should().BeTrue();
        decoded.Should().Be(header);
        bytes[7].Should().Be(0);
        GeneveHeader.TryDecode(bytes.AsSpan(0, 7), out _).Should().BeFalse();
        var tooLarge = () => new GeneveHeader(0, false, 0, GeneveHeader.MaxVni + 1).Encode(new byte[8]);
        tooLarge.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Ping_MarshalsVectors_AndParsesBack()
    {
        Marshal(new DiscoPing(TxId, null, 0).Write).Should().Be("0100" + "0102030405060708090a0b0c");
        Marshal(new DiscoPing(TxId, null, 3).Write).Should().Be("0100" + "0102030405060708090a0b0c" + "000000");

        var withKey = new DiscoPing(TxId, Hex.Range(0x20, 0x3f), 5);
        var bytes = Hex.Decode(Marshal(withKey.Write));
        var parsed = DiscoPing.Parse(bytes.AsSpan(2))!;
        parsed.TxId.Should().Equal(TxId);
        parsed.NodeKey.Should().Equal(Hex.Range(0x20, 0x3f));
        parsed.Padding.Should().Be(5);
        DiscoPing.Parse(bytes.AsSpan(2, 11)).Should().BeNull();
    }

    [Fact]
    public void Pong_MarshalsVectors_AndParsesBack()
    {
        var v4 = new DiscoPong(TxId, IPEndPoint.Parse("2.3.4.5:1234"));
        Marshal(v4.Write).Should().Be("0200" + "0102030405060708090a0b0c" + "00000000000000000000ffff02030405" + "04d2");
        var v6 = new DiscoPong(TxId, IPEndPoint.Parse("[fed0::12]:6666"));
        Marshal(v6.Write).Should().Be("0200" + "0102030405060708090a0b0c" + "fed00000000000000000000000000012" + "1a0a");

        DiscoPong.Parse(Hex.Decode(Marshal(v4.Write)).AsSpan(2))!.Source.Should().Be(IPEndPoint.Parse("2.3.4.5:1234"));
        DiscoPong.Parse(Hex.Decode(Marshal(v6.Write)).AsSpan(2))!.Source.Should().Be(IPEndPoint.Parse("[fed0::12]:6666"));
    }

    [Fact]
    public void CallMeMaybe_MarshalsVectors_AndParsesBack()
    {
        Marshal(new DiscoCallMeMaybe([]).Write).Should().Be("0300");
        var two = new DiscoCallMeMaybe([IPEndPoint.Parse("1.2.3.4:567"), IPEndPoint.Parse("[2001::3456]:789")]);
        var hex = "0300" + "00000000000000000000ffff01020304" + "0237" + "20010000000000000000000000003456" + "0315";
        Marshal(two.Write).Should().Be(hex);
        DiscoCallMeMaybe.Parse(0, Hex.Decode(hex).AsSpan(2)).Endpoints.Should().Equal(two.Endpoints);
        DiscoCallMeMaybe.Parse(1, Hex.Decode(hex).AsSpan(2)).Endpoints.Should().BeEmpty("version must be 0");
        DiscoCallMeMaybe.Parse(0, Hex.Decode(hex).AsSpan(2, 17)).Endpoints.Should().BeEmpty("not a multiple of 18");
    }

    [Theory]
    [InlineData(0x04, "04")]
    [InlineData(0x05, "05")]
    [InlineData(0x06, "06")]
    public void BindFamily_MarshalsVector_AndParsesBack(byte typeByte, string typeHex)
    {
        var type = (DiscoMessageType)typeByte;
        var common = new BindUdpRelayEndpointCommon
        {
            Vni = 1,
            Generation = 2,
            RemoteKey = Bytes32.From(RelayVectors.PatternKey()),
            Challenge = Bytes32.From(Hex.Range(0x00, 0x1f)),
        };
        var bytes = new byte[BindUdpRelayEndpointCommon.MessageLength];
        common.WriteMessage(type, bytes).Should().Be(74);
        Hex.Encode(bytes).Should().Be(
            typeHex + "00" + "00000001" + "00000002" + Hex.Encode(RelayVectors.PatternKey()) + Hex.Encode(Hex.Range(0x00, 0x1f)));

        var withTrailer = bytes.Concat(new byte[] { 0xAA, 0xBB }).ToArray();
        BindUdpRelayEndpointCommon.TryParse(withTrailer.AsSpan(2), out var parsed).Should().BeTrue("trailing bytes are ignored");
        parsed.Vni.Should().Be(1);
        parsed.Generation.Should().Be(2);
        ((ReadOnlySpan<byte>)parsed.RemoteKey).ToArray().Should().Equal(RelayVectors.PatternKey());
        ((ReadOnlySpan<byte>)parsed.Challenge).ToArray().Should().Equal(Hex.Range(0x00, 0x1f));
        BindUdpRelayEndpointCommon.TryParse(bytes.AsSpan(2, 71), out _).Should().BeFalse("the pre-2025-06 32-byte form and anything short is rejected");
    }

    [Fact]
    public void CallMeMaybeVia_AndAllocateMessages_MarshalVectors_AndParseBack()
    {
        var server = new DiscoKey(RelayVectors.PatternKey());
        var client0 = new DiscoKey(RelayVectors.PatternKey(3));
        var client1 = new DiscoKey(RelayVectors.PatternKey(4));
        var endpoint = new UdpRelayEndpointMessage(
            server, client0, client1, 123, 456, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1),
            [IPEndPoint.Parse("1.2.3.4:567"), IPEndPoint.Parse("[2001::3456]:789")]);
        var body =
            Hex.Encode(server.Bytes) + Hex.Encode(client0.Bytes) + Hex.Encode(client1.Bytes) +
            "000000000000007b" + "000001c8" + "000000003b9aca00" + "0000000df8475800" +
            "00000000000000000000ffff01020304" + "0237" + "20010000000000000000000000003456" + "0315";

        Marshal(endpoint.WriteCallMeMaybeVia).Should().Be("0700" + body);
        Marshal(d => endpoint.WriteAllocateResponse(1, d)).Should().Be("0900" + "00000001" + body);

        var parsed = UdpRelayEndpointMessage.ParseBody(Hex.Decode(body))!;
        parsed.ServerDisco.Should().Be(server);
        parsed.ClientDisco0.Should().Be(client0);
        parsed.ClientDisco1.Should().Be(client1);
        parsed.LamportId.Should().Be(123);
        parsed.Vni.Should().Be(456);
        parsed.BindLifetime.Should().Be(TimeSpan.FromSeconds(1));
        parsed.SteadyStateLifetime.Should().Be(TimeSpan.FromMinutes(1));
        parsed.AddrPorts.Should().Equal(endpoint.AddrPorts);
        var response = UdpRelayEndpointMessage.ParseAllocateResponse(Hex.Decode("00000001" + body))!.Value;
        response.Generation.Should().Be(1);
        response.Endpoint.Vni.Should().Be(456);
        UdpRelayEndpointMessage.ParseBody(Hex.Decode(body).AsSpan(0, UdpRelayEndpointMessage.FixedLength)).Should().BeNull("at least one addr:port is required");

        var request = new AllocateUdpRelayEndpointRequest(client0, client1, 1);
        var requestHex = "0800" + Hex.Encode(client0.Bytes) + Hex.Encode(client1.Bytes) + "00000001";
        Marshal(request.Write).Should().Be(requestHex);
        AllocateUdpRelayEndpointRequest.Parse(0, Hex.Decode(requestHex).AsSpan(2)).Should().Be(request);
        AllocateUdpRelayEndpointRequest.Parse(1, Hex.Decode(requestHex).AsSpan(2)).Should().BeNull();
    }

    [Fact]
    public void LifetimeDefaults_EncodeAsGoDurations()
    {
        var endpoint = new UdpRelayEndpointMessage(default, default, default, 0, 0, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), [IPEndPoint.Parse("1.2.3.4:5")]);
        var hex = Marshal(endpoint.WriteCallMeMaybeVia);
        hex.Substring((2 + 108) * 2, 32).Should().Be("00000006fc23ac00" + "00000045d964b800");
    }

    [Fact]
    public void BindPacket_MatchesFullVector_AndOpensAtTheServer()
    {
        var shared = new byte[32];
        NaClBox.TryPrecompute(RelayVectors.ClientAPrivate, RelayVectors.ServerPublic, shared).Should().BeTrue();
        var packet = new byte[160];
        new GeneveHeader(0, true, GeneveHeader.ProtocolDisco, 1).Encode(packet);
        var length = DiscoPacket.Seal(RelayVectors.ClientAPublic, shared, Hex.Range(0x90, 0xa7), Hex.Decode(RelayVectors.BindInner), packet.AsSpan(8));
        (8 + length).Should().Be(160);
        Hex.Encode(packet).Should().Be(RelayVectors.BindPacket);

        var serverShared = new byte[32];
        NaClBox.TryPrecompute(RelayVectors.ServerPrivate, RelayVectors.ClientAPublic, serverShared).Should().BeTrue();
        DiscoPacket.TryParse(packet.AsSpan(8), out var sender, out var nonce, out var box).Should().BeTrue();
        sender.ToArray().Should().Equal(RelayVectors.ClientAPublic);
        var inner = new byte[200];
        DiscoPacket.Open(serverShared, nonce, box, inner).Should().Be(74);
        Hex.Encode(inner.AsSpan(0, 74)).Should().Be(RelayVectors.BindInner);
    }

    [Fact]
    public void ChallengeMac_MatchesVector()
    {
        var mac = new byte[32];
        var source = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("198.51.100.7:41641"));
        var encoded = new byte[18];
        Hex.Encode(encoded.AsSpan(0, source.EncodeForCookie(encoded))).Should().Be("c6336407a9a2");
        RelayChallengeMac.Compute(Hex.Range(0xb0, 0xcf), 1, 7, RelayVectors.ClientBPublic, source, mac);
        Hex.Encode(mac).Should().Be(RelayVectors.ChallengeMac);
    }

    [Fact]
    public void ChallengePacket_MatchesFullVector_AndTheClientAnswersIt()
    {
        var shared = new byte[32];
        NaClBox.TryPrecompute(RelayVectors.ServerPrivate, RelayVectors.ClientAPublic, shared).Should().BeTrue();
        var common = new BindUdpRelayEndpointCommon
        {
            Vni = 1,
            Generation = 7,
            RemoteKey = Bytes32.From(RelayVectors.ClientBPublic),
            Challenge = Bytes32.From(Hex.Decode(RelayVectors.ChallengeMac)),
        };
        var inner = new byte[74];
        common.WriteMessage(DiscoMessageType.BindUdpRelayEndpointChallenge, inner);
        var packet = new byte[160];
        new GeneveHeader(0, true, GeneveHeader.ProtocolDisco, 1).Encode(packet);
        DiscoPacket.Seal(RelayVectors.ServerPublic, shared, Hex.Range(0x30, 0x47), inner, packet.AsSpan(8));
        Hex.Encode(packet).Should().Be(RelayVectors.ChallengePacket);

        var client = new RelayHandshakeClient(RelayVectors.ClientAPrivate, new DiscoKey(RelayVectors.ServerPublic), new DiscoKey(RelayVectors.ClientBPublic), 1, 7);
        var server = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:7777"));
        var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        client.HandleChallenge(packet, server, answer).Should().Be(160);
        client.State.Should().Be(RelayHandshakeClientState.AnswerSent);
        client.ServerAddress.Should().Be(server);

        // The Answer echoes the challenge, sealed to the server.
        DiscoPacket.TryParse(answer.AsSpan(8), out _, out var nonce, out var box).Should().BeTrue();
        var opened = new byte[100];
        DiscoPacket.Open(shared, nonce, box, opened).Should().Be(74);
        opened[0].Should().Be((byte)DiscoMessageType.BindUdpRelayEndpointAnswer);
        opened.AsSpan(2 + 40, 32).ToArray().Should().Equal(Hex.Decode(RelayVectors.ChallengeMac));
        client.HandleChallenge(packet, server, answer).Should().Be(0, "only the first valid Challenge is answered");
    }

    [Fact]
    public void NakedPing_MatchesFullVector()
    {
        var shared = new byte[32];
        NaClBox.TryPrecompute(RelayVectors.ClientAPrivate, RelayVectors.ClientBPublic, shared).Should().BeTrue();
        Hex.Encode(shared).Should().Be("ec88f6e13b22bf9f04d480e0d8525c08ac7e2f48e212742bcbcafa104a74b08d");
        var inner = new byte[14];
        new DiscoPing(TxId, null, 0).Write(inner);
        var nonce = new byte[24];
        Array.Fill(nonce, (byte)0x11);
        var packet = new byte[92];
        DiscoPacket.Seal(RelayVectors.ClientAPublic, shared, nonce, inner, packet).Should().Be(92);
        Hex.Encode(packet).Should().Be(RelayVectors.NakedPingPacket);
        DiscoPacket.LooksLikeDisco(packet).Should().BeTrue();
        DiscoPacket.LooksLikeDisco(packet.AsSpan(0, 61)).Should().BeFalse();
    }

    [Fact]
    public void DiscoKey_TextForm_MatchesTailscale()
    {
        var key = new DiscoKey(RelayVectors.ServerPublic);
        key.ToString().Should().Be("discokey:64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466");
        DiscoKey.Parse(key.ToString()).Should().Be(key);
        DiscoKey.Parse("DISCOKEY:64B101B1D0BE5A8704BD078F9895001FC03E8E9F9522F188DD128D9846D48466").Should().Be(key);
        DiscoKey.TryParse("discokey:64b1", out _).Should().BeFalse();
        DiscoKey.TryParse("nodekey:64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466", out _).Should().BeFalse();
        new DiscoKey(RelayVectors.ServerPrivate).PublicKey.Should().Be(key);
        new DiscoKey(RelayVectors.ClientAPrivate).PublicKey.Bytes.ToArray().Should().Equal(RelayVectors.ClientAPublic);
        DiscoKey.Generate().PublicKey.IsEmpty.Should().BeFalse();
    }

    private delegate int Writer(Span<byte> destination);

    private static string Marshal(Writer write)
    {
        var buffer = new byte[512];
        return Hex.Encode(buffer.AsSpan(0, write(buffer)));
    }
}
