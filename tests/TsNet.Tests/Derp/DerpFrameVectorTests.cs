using System.Text;
using TsNet.Derp;
using TsNet.Tests.Crypto;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Derp;

/// <summary>The byte-exact frames of derp.md §2–§3 and test-fixtures.md B.2.</summary>
public sealed class DerpFrameVectorTests
{
    private static readonly byte[] ServerPrivate = Hex.Range(0x80, 0x9f);
    private static readonly byte[] ClientPrivate = Hex.Range(0xa0, 0xbf);
    private static readonly byte[] DestinationPrivate = Hex.Range(0xc0, 0xdf);
    private const string ServerPublicHex = "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d";
    private const string ClientPublicHex = "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c";
    private const string DestinationPublicHex = "dc2cca31e8e43bbd91dff7e475cca3347eb478107d5bd765aba4ae4a30c35d44";

    [Theory]
    [InlineData("0400000400", 0x04, 1024u)]
    [InlineData("0600000000", 0x06, 0u)]
    [InlineData("05ffffffff", 0x05, 0xffffffffu)]
    public void Header_ParsesDocExamples(string hex, byte type, uint length)
    {
        DerpFrameHeader.TryRead(Hex.Decode(hex), out var header).Should().BeTrue();
        header.Should().Be(new DerpFrameHeader((DerpFrameType)type, length));
    }

    [Fact]
    public void Header_ShortInput_IsRefused() => DerpFrameHeader.TryRead(Hex.Decode("06000000"), out _).Should().BeFalse();

    [Fact]
    public void PingAndPong_MatchClientTestBytes()
    {
        var data = Hex.Range(1, 8);
        var frame = new byte[DerpFrameWriter.PingFrameSize];
        DerpFrameWriter.WritePing(frame, data).Should().Be(13);
        Hex.Encode(frame).Should().Be("12000000080102030405060708");
        DerpFrameWriter.WritePong(frame, data);
        Hex.Encode(frame).Should().Be("13000000080102030405060708");

        var parsed = new byte[8];
        DerpFrameParser.TryParsePingData(frame.AsSpan(5), parsed).Should().BeTrue();
        parsed.Should().Equal(data);
        DerpFrameParser.TryParsePingData(frame.AsSpan(5, 7), parsed).Should().BeFalse();
    }

    [Fact]
    public void Restarting_ParsesOneAndTwoMilliseconds()
    {
        var frame = Hex.Decode("15000000080000000100000002");
        DerpFrameHeader.TryRead(frame, out var header).Should().BeTrue();
        header.Should().Be(new DerpFrameHeader(DerpFrameType.Restarting, 8));
        DerpFrameParser.TryParseRestarting(frame.AsSpan(5), out var reconnectIn, out var tryFor).Should().BeTrue();
        reconnectIn.Should().Be(TimeSpan.FromMilliseconds(1));
        tryFor.Should().Be(TimeSpan.FromMilliseconds(2));
        DerpFrameParser.TryParseRestarting(frame.AsSpan(5, 7), out _, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("1400000003424144", "BAD")]
    [InlineData("1400000000", "")]
    public void Health_CarriesText(string hex, string text)
    {
        var frame = Hex.Decode(hex);
        DerpFrameHeader.TryRead(frame, out var header).Should().BeTrue();
        header.Type.Should().Be(DerpFrameType.Health);
        Encoding.UTF8.GetString(frame.AsSpan(5, (int)header.Length)).Should().Be(text);
    }

    [Fact]
    public void ServerKey_ParsesVector_AndRejectsBadMagicOrShortPayload()
    {
        var frame = Hex.Decode("010000002844455250f09f9491" + ServerPublicHex);
        DerpFrameHeader.TryRead(frame, out var header).Should().BeTrue();
        header.Should().Be(new DerpFrameHeader(DerpFrameType.ServerKey, 40));
        var key = new byte[32];
        DerpFrameParser.TryParseServerKey(frame.AsSpan(5), key).Should().BeTrue();
        Hex.Encode(key).Should().Be(ServerPublicHex);

        // Extra bytes after the key are allowed (future fields).
        DerpFrameParser.TryParseServerKey([.. frame.AsSpan(5), 0xff], key).Should().BeTrue();
        DerpFrameParser.TryParseServerKey(frame.AsSpan(5, 39), key).Should().BeFalse();
        var badMagic = frame.AsSpan(5).ToArray();
        badMagic[7] ^= 1;
        DerpFrameParser.TryParseServerKey(badMagic, key).Should().BeFalse();
    }

    [Fact]
    public void ClientInfo_MatchesVector()
    {
        var sharedKey = new byte[32];
        NaClBox.TryPrecompute(ClientPrivate, Hex.Decode(ServerPublicHex), sharedKey).Should().BeTrue();
        var frame = new byte[DerpFrameWriter.ClientInfoFrameSize];
        DerpFrameWriter.WriteClientInfo(frame, Hex.Decode(ClientPublicHex), sharedKey, Hex.Range(0x10, 0x27)).Should().Be(frame.Length);
        Hex.Encode(frame).Should().Be(
            "0200000068605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c101112131415161718191a1b1c1d1e1f2021222324252627"
            + "32a88e79bfba35ef242d8695916579dcaf3a6f7bccb4607df28325db7ad73fd95689acb7212bc5f29567e10487440475");
    }

    [Fact]
    public void ClientInfo_OpensOnTheServerSideToTheExactGoJson()
    {
        var clientShared = new byte[32];
        var serverShared = new byte[32];
        var clientPublic = PublicOf(ClientPrivate);
        NaClBox.TryPrecompute(ClientPrivate, Hex.Decode(ServerPublicHex), clientShared).Should().BeTrue();
        NaClBox.TryPrecompute(ServerPrivate, clientPublic, serverShared).Should().BeTrue();
        var frame = new byte[DerpFrameWriter.ClientInfoFrameSize];
        DerpFrameWriter.WriteClientInfo(frame, clientPublic, clientShared, Hex.Range(0, 23));
        var body = frame.AsSpan(5);
        var json = new byte[body.Length - 32 - 24 - 16];
        NaClBox.Open(serverShared, body.Slice(32, 24), body[56..], json).Should().BeTrue();
        Encoding.UTF8.GetString(json).Should().Be("""{"version":2,"CanAckPings":true}""");
    }

    [Fact]
    public void ServerInfo_OpensVector()
    {
        var sharedKey = new byte[32];
        NaClBox.TryPrecompute(ClientPrivate, Hex.Decode(ServerPublicHex), sharedKey).Should().BeTrue();
        var frame = Hex.Decode("0300000035303132333435363738393a3b3c3d3e3f4041424344454647d1dc06e088bbebb7467007fa7c55b5c216c690178b1712ba68417a17ce");
        DerpFrameHeader.TryRead(frame, out var header).Should().BeTrue();
        header.Should().Be(new DerpFrameHeader(DerpFrameType.ServerInfo, 0x35));
        DerpFrameParser.TryParseServerInfo(frame.AsSpan(5), sharedKey, new byte[64], out var info).Should().BeTrue();
        info.Should().Be(new DerpServerInfo(2, 0, 0));

        var tampered = frame.AsSpan(5).ToArray();
        tampered[^1] ^= 1;
        DerpFrameParser.TryParseServerInfo(tampered, sharedKey, new byte[64], out _).Should().BeFalse();
        DerpFrameParser.TryParseServerInfo(tampered.AsSpan(0, 39), sharedKey, new byte[64], out _).Should().BeFalse();
    }

    [Fact]
    public void ServerInfoJson_ReadsTokenBucket_AndRejectsNonObjects()
    {
        DerpServerInfo.TryParse("""{"version":2,"TokenBucketBytesPerSecond":1000,"TokenBucketBytesBurst":5000,"x":[1,{"y":2}]}"""u8, out var info).Should().BeTrue();
        info.Should().Be(new DerpServerInfo(2, 1000, 5000));
        DerpServerInfo.TryParse("[2]"u8, out _).Should().BeFalse();
        DerpServerInfo.TryParse("{\"version\":"u8, out _).Should().BeFalse();
    }

    [Fact]
    public void SendPacket_MatchesVector()
    {
        var frame = new byte[DerpProtocol.SendPacketOverhead + 5];
        DerpFrameWriter.WriteSendPacket(frame, Hex.Decode(DestinationPublicHex), "hello"u8).Should().Be(frame.Length);
        Hex.Encode(frame).Should().Be("0400000025" + DestinationPublicHex + "68656c6c6f");
        Hex.Encode(PublicOf(DestinationPrivate)).Should().Be(DestinationPublicHex);
    }

    [Fact]
    public void SendPacket_RefusesOver64KiB()
    {
        var frame = new byte[DerpProtocol.SendPacketOverhead + DerpProtocol.MaxPacketSize + 1];
        var act = () => DerpFrameWriter.WriteSendPacket(frame, new byte[32], new byte[DerpProtocol.MaxPacketSize + 1]);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void RecvPacket_VectorCarriesSourceKeyThenPacket()
    {
        var frame = Hex.Decode("0500000025" + ClientPublicHex + "68656c6c6f");
        DerpFrameHeader.TryRead(frame, out var header).Should().BeTrue();
        header.Should().Be(new DerpFrameHeader(DerpFrameType.RecvPacket, 37));
        DerpFrameParser.IsValidRecvPacketLength(header.Length).Should().BeTrue();
        DerpFrameParser.IsValidRecvPacketLength(31).Should().BeFalse();
        DerpFrameParser.IsValidRecvPacketLength(32 + 65536 + 1).Should().BeFalse();
    }

    [Fact]
    public void NotePreferred_MatchesVector()
    {
        var frame = new byte[DerpFrameWriter.NotePreferredFrameSize];
        DerpFrameWriter.WriteNotePreferred(frame, true);
        Hex.Encode(frame).Should().Be("070000000101");
        DerpFrameWriter.WriteNotePreferred(frame, false);
        Hex.Encode(frame).Should().Be("070000000100");
    }

    [Fact]
    public void PeerGone_WithAndWithoutReason()
    {
        var frame = Hex.Decode("0800000021" + DestinationPublicHex + "01");
        var key = new byte[32];
        DerpFrameParser.TryParsePeerGone(frame.AsSpan(5), key, out var reason).Should().BeTrue();
        Hex.Encode(key).Should().Be(DestinationPublicHex);
        reason.Should().Be(DerpPeerGoneReason.NotHere);

        // derper v1.36.2 sends no reason byte: that means "disconnected".
        DerpFrameParser.TryParsePeerGone(frame.AsSpan(5, 32), key, out reason).Should().BeTrue();
        reason.Should().Be(DerpPeerGoneReason.Disconnected);
        DerpFrameParser.TryParsePeerGone(frame.AsSpan(5, 31), key, out _).Should().BeFalse();
    }

    private static byte[] PublicOf(byte[] privateKey)
    {
        var publicKey = new byte[32];
        X25519.DerivePublicKey(privateKey, publicKey);
        return publicKey;
    }
}
