using System.Text;
using TsNet.Control.Transport;
using TsNet.Tests.Crypto;

namespace TsNet.Tests.Control.Transport;

public class ControlHandshakeTests
{
    // test-fixtures.md B.1 (same key bytes as A.1).
    private const string B1Initiation = "0082010060358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254ad5b8febedeb97415be53612205e6bfab385e34cb127dd8854c4f9afb10f9b0e49945171d80e52b62b1cc7794ec92042d7380dba1e3c96fde099f9f4158e08ea";
    private const string B1HandshakeHeader = "AIIBAGA1gHLWNliA0a7qMprfkSE4OFHtIaKOO3XpZdDSzRZiVK1bj+vt65dBW+U2EiBea/qzheNMsSfdiFTE+a+xD5sOSZRRcdgOUrYrHMd5TskgQtc4DboePJb94Jn59BWOCOo=";
    private const string B1Response = "020030675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52fc9dd7d78df78ba87d8e5e246ffc6af00";
    private const string B1HandshakeHash = "fc6a2df04a3dde3f2239a9139f5ce582cae89ee8c448491635f55cdfe7dbdead";
    private const string C1 = "1ffa520b7b784b83355f4ca5754d333f51f53ff31d9d98f697c22e8f79b66e22";
    private const string C2 = "1657d025486888648386e46e37e6722a42c605d3f1b0ec24454190a645355089";
    private const string ControlPublic = "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a";
    private const string MachinePublic = "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f";

    // test-fixtures.md A.1 (generic IK, prologue "TEST HANDSHAKE").
    private const string A1Initiation = "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254ad5b8febedeb97415be53612205e6bfab385e34cb127dd8854c4f9afb10f9b0e49075a6f14f9d5bc61412f096ae4950589aef8286944be93ca02ab76a5483b51";
    private const string A1Response = "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f5ef5508032efff8066fc858410f411e8";
    private const string A1HandshakeHash = "cc737343755657114f2572461c9aae93a36a7b31714b60c7c0616d84438362dd";

    internal static MachinePrivateKey MachineKey => MachinePrivateKey.FromBytes(Hex.Range(0x00, 0x1f));

    internal static MachinePublicKey ControlKey => MachinePublicKey.FromBytes(Hex.Decode(ControlPublic));

    private static ControlHandshake B1Client() => new(MachineKey, ControlKey, 130, Hex.Range(0x20, 0x3f));

    [Fact]
    public void Initiation_MatchesB1ByteForByte()
    {
        var handshake = B1Client();

        Hex.Encode(handshake.Initiation).Should().Be(B1Initiation);
        handshake.Initiation.Should().HaveCount(101);
        Convert.ToBase64String(handshake.Initiation).Should().Be(B1HandshakeHeader);
    }

    [Fact]
    public void Prologue_IsTailscaleControlProtocolWithVersion()
        => Hex.Encode(ControlNoise.Prologue(130)).Should().Be("5461696c7363616c6520436f6e74726f6c2050726f746f636f6c2076313330");

    [Fact]
    public void ReadResponse_B1_DerivesB1KeysAndHash()
    {
        var keys = B1Client().ReadResponse(Hex.Decode(B1Response));

        Hex.Encode(keys.SendKey).Should().Be(C1);
        Hex.Encode(keys.ReceiveKey).Should().Be(C2);
        Hex.Encode(keys.HandshakeHash).Should().Be(B1HandshakeHash);
        keys.Peer.Should().Be(ControlKey);
        keys.ProtocolVersion.Should().Be(130);
    }

    [Fact]
    public void Responder_B1_ProducesB1ResponseAndRecoversMachineKey()
    {
        var responder = new TestNoiseResponder(ControlNoise.Prologue(130), Hex.Range(0x40, 0x5f), Hex.Range(0x60, 0x7f));
        byte[] initiation = Hex.Decode(B1Initiation);

        TestNoiseResponder.ParseInitiationHeader(initiation).Should().Be(130);
        responder.TryReadInitiation(initiation.AsSpan(5)).Should().BeTrue();
        Hex.Encode(responder.InitiatorStatic).Should().Be(MachinePublic);
        Hex.Encode(responder.WriteResponseMessage()).Should().Be(B1Response);
        Hex.Encode(responder.HandshakeHash).Should().Be(B1HandshakeHash);
        Hex.Encode(responder.InitiatorToResponder).Should().Be(C1);
        Hex.Encode(responder.ResponderToInitiator).Should().Be(C2);
    }

    [Fact]
    public void Responder_A1_ProducesA1ResponseKeysAndHash()
    {
        var responder = new TestNoiseResponder(Encoding.ASCII.GetBytes("TEST HANDSHAKE"), Hex.Range(0x40, 0x5f), Hex.Range(0x60, 0x7f));

        responder.TryReadInitiation(Hex.Decode(A1Initiation)).Should().BeTrue();
        Hex.Encode(responder.InitiatorStatic).Should().Be(MachinePublic);
        Hex.Encode(responder.WriteResponse()).Should().Be(A1Response);
        Hex.Encode(responder.HandshakeHash).Should().Be(A1HandshakeHash);
        Hex.Encode(responder.InitiatorToResponder).Should().Be(C1);
        Hex.Encode(responder.ResponderToInitiator).Should().Be(C2);
    }

    [Fact]
    public void Initiation_SharesA1CiphertextButNotTags()
    {
        // The prologue enters h only, so e and enc(s) without its tag match A.1 (fixtures note).
        Hex.Encode(B1Client().Initiation.AsSpan(5, 64)).Should().Be(A1Initiation[..128]);
    }

    [Fact]
    public void RandomHandshakes_AgreeOnHashAndPeers()
    {
        var machine = MachinePrivateKey.Generate();
        var serverStatic = MachinePrivateKey.Generate();
        var client = new ControlHandshake(machine, serverStatic.PublicKey, 1);
        var responder = new TestNoiseResponder(ControlNoise.Prologue(1), serverStatic.Bytes);

        responder.TryReadInitiation(client.Initiation.AsSpan(5)).Should().BeTrue();
        var keys = client.ReadResponse(responder.WriteResponseMessage());

        keys.HandshakeHash.Should().Equal(responder.HandshakeHash);
        keys.Peer.Should().Be(serverStatic.PublicKey);
        MachinePublicKey.FromBytes(responder.InitiatorStatic).Should().Be(machine.PublicKey);
        keys.SendKey.Should().Equal(responder.InitiatorToResponder);
        keys.ReceiveKey.Should().Equal(responder.ResponderToInitiator);
    }

    [Fact]
    public void TenHandshakes_NeverReuseBytesOrHashes()
    {
        var serverStatic = MachinePrivateKey.Generate();
        var initiations = new HashSet<string>();
        var responses = new HashSet<string>();
        var hashes = new HashSet<string>();
        for (int i = 0; i < 10; i++)
        {
            var client = new ControlHandshake(MachinePrivateKey.Generate(), serverStatic.PublicKey, 1);
            var responder = new TestNoiseResponder(ControlNoise.Prologue(1), serverStatic.Bytes);
            responder.TryReadInitiation(client.Initiation.AsSpan(5)).Should().BeTrue();
            byte[] response = responder.WriteResponseMessage();
            var keys = client.ReadResponse(response);
            initiations.Add(Hex.Encode(client.Initiation.AsSpan(5, 96)));
            responses.Add(Hex.Encode(response.AsSpan(3, 48)));
            hashes.Add(Hex.Encode(keys.HandshakeHash));
        }

        initiations.Should().HaveCount(10);
        responses.Should().HaveCount(10);
        hashes.Should().HaveCount(10);
    }

    [Fact]
    public void TamperedInitiation_AnyPayloadByte_ResponderRejects()
    {
        byte[] initiation = Hex.Decode(B1Initiation);
        for (int i = 5; i < initiation.Length; i++)
        {
            byte[] tampered = (byte[])initiation.Clone();
            tampered[i]++;
            var responder = new TestNoiseResponder(ControlNoise.Prologue(130), Hex.Range(0x40, 0x5f), Hex.Range(0x60, 0x7f));
            responder.TryReadInitiation(tampered.AsSpan(5)).Should().BeFalse($"byte {i} was changed");
        }
    }

    [Fact]
    public void TamperedInitiation_VersionByte_ChangesPrologueSoResponderRejects()
    {
        byte[] tampered = Hex.Decode(B1Initiation);
        tampered[1]++;
        ushort version = TestNoiseResponder.ParseInitiationHeader(tampered);
        var responder = new TestNoiseResponder(ControlNoise.Prologue(version), Hex.Range(0x40, 0x5f), Hex.Range(0x60, 0x7f));

        responder.TryReadInitiation(tampered.AsSpan(5)).Should().BeFalse();
    }

    [Fact]
    public void TamperedResponse_AnyByte_ClientFailsWithProtocolException()
    {
        byte[] response = Hex.Decode(B1Response);
        for (int i = 0; i < response.Length; i++)
        {
            byte[] tampered = (byte[])response.Clone();
            tampered[i]++;
            var client = B1Client();
            client.Invoking(c => c.ReadResponse(tampered)).Should().Throw<ControlTransportException>($"byte {i} was changed");
        }
    }

    [Fact]
    public void ErrorMessage_BecomesServerErrorWithText()
    {
        byte[] message = [0x03, 0x00, 0x1f, .. "wrong handshake initiation size"u8];

        B1Client().Invoking(c => c.ReadResponse(message)).Should().Throw<ControlTransportException>()
            .WithMessage("*server error: \"wrong handshake initiation size\"*");
    }

    [Theory]
    [InlineData("")]
    [InlineData("02")]
    [InlineData("020030")]
    [InlineData("020031675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52fc9dd7d78df78ba87d8e5e246ffc6af0000")]
    [InlineData("040030675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52fc9dd7d78df78ba87d8e5e246ffc6af00")]
    [InlineData("03ffff")]
    public void MalformedResponse_ThrowsProtocolException(string hex)
        => B1Client().Invoking(c => c.ReadResponse(Hex.Decode(hex))).Should().Throw<ControlTransportException>();

    [Fact]
    public void ReadResponse_Twice_IsRefused()
    {
        var client = B1Client();
        client.ReadResponse(Hex.Decode(B1Response));

        client.Invoking(c => c.ReadResponse(Hex.Decode(B1Response))).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void ZeroControlKey_IsRefused()
        => FluentActions.Invoking(() => new ControlHandshake(MachineKey, default, 130)).Should().Throw<ArgumentException>();
}
