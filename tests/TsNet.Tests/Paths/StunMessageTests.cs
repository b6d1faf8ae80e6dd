using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Paths;

/// <summary>STUN request bytes and response parsing against test-fixtures.md §A.11/§B.4 (tailscale <c>stun_test.go</c>).</summary>
public sealed class StunMessageTests
{
    [Fact]
    public void BindingRequest_MatchesTailscalesBytes()
    {
        var request = new byte[StunBindingRequest.Length];
        StunBindingRequest.Write(Convert.FromHexString("0102030405060708090a0b0c"), request).Should().Be(40);

        Convert.ToHexStringLower(request).Should().Be("000100142112a4420102030405060708090a0b0c802200087461696c6e6f646580280004b32c370f");
        StunMessage.IsBindingMessage(request).Should().BeTrue("the UDP demultiplexer must recognise our own shape");
    }

    [Fact]
    public void Crc32_KnownAnswer() =>
        Crc32Ieee.Compute("123456789"u8).Should().Be(0xCBF43926u);

    [Theory]
    [InlineData("0101000c2112a4420102030405060708090a0b0c00200008000121ec2010a746", "0102030405060708090a0b0c", "1.2.3.4:254")]
    [InlineData("0101000c2112a4420102030405060708090a0b0c00200008000183bbea12d545", "0102030405060708090a0b0c", "203.0.113.7:41641")]
    // Real derper v1.36.2 answering our request bytes (above) from 127.0.0.1:42780; the 0..35-byte FINGERPRINT gets no answer.
    [InlineData("0101000c2112a4420102030405060708090a0b0c002000080001860e5e12a443", "0102030405060708090a0b0c", "127.0.0.1:42780")]
    [InlineData("0101000c2112a4422360b11e3ec68ffa93e08007002000080001c7866957856f", "2360b11e3ec68ffa93e08007", "72.69.33.45:59028")]
    [InlineData("0101000c2112a442f9f121cbde7d7c75923ce271002000080001c7876957856f", "f9f121cbde7d7c75923ce271", "72.69.33.45:59029")]
    [InlineData("010100442112a442482eb64715e8b28eaead6444000100080001e4ab4845212d0004000800012710d90a44980005000800012711d9747a8a802000080001c5b96957856f80220010566f766964612e6f726720302e393600", "482eb64715e8b28eaead6444", "72.69.33.45:58539")]
    [InlineData("010100242112a4427e57966829f444609d1deaa6000100080001e9d34845212d0004000800010d964d48a9d40005000800010d974d48a9d5", "7e57966829f444609d1deaa6", "72.69.33.45:59859")]
    [InlineData("010100242112a442ebc2d36ef471217c4f3e308e8022000a656e64706f696e7465720000002000080001ce665e12a44380280004b699bb02010100242112a442", "ebc2d36ef471217c4f3e308e", "127.0.0.1:61300")]
    [InlineData("010100482112a44206f56685d28af3e69ce341e200010014000290ce260200d1b4cfc10038b231fffeef96f6802b001400020d962604a880000200d10000000000c57001002000140002b1dc0710a493b23aa785ea38c219620cd714", "06f56685d28af3e69ce341e2", "[2602:d1:b4cf:c100:38b2:31ff:feef:96f6]:37070")]
    [InlineData("010100142112a442ebc2d36ef471217c4f3e308e8022000161000000002000080001ce665e12a443", "ebc2d36ef471217c4f3e308e", "127.0.0.1:61300")]
    [InlineData("010100142112a442ebc2d36ef471217c4f3e308e8022000361626300002000080001ce665e12a443", "ebc2d36ef471217c4f3e308e", "127.0.0.1:61300")]
    [InlineData("010100182112a4424fd5d202dcb37d31fc773306002000140002cd3d2112a4424fd5d202dcb382ce2dc3fcc7", "4fd5d202dcb37d31fc773306", "209.180.207.193:60463")]
    public void BindingResponse_Vectors(string packet, string txId, string expected)
    {
        StunBindingResponse.TryParse(Convert.FromHexString(packet), out var id, out var mapped).Should().BeTrue();
        Convert.ToHexStringLower(id).Should().Be(txId);
        mapped.Should().Be(DiscoTestNetwork.Address(expected));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000000000000000000000000000000000000")] // no cookie
    [InlineData("000100142112a4420102030405060708090a0b0c802200087461696c6e6f646580280004b32c370f")] // a request, not a response
    [InlineData("0101000c2112a4420102030405060708090a0b0c")] // header claims 12 attribute bytes that are missing
    [InlineData("010100082112a4420102030405060708090a0b0c0020000800")] // attribute longer than the message
    [InlineData("010100002112a4420102030405060708090a0b0c")] // no address at all
    [InlineData("0101000c2112a4420102030405060708090a0b0c00200008000321ec2010a746")] // unknown family
    [InlineData("f101000c2112a4420102030405060708090a0b0c00200008000121ec2010a746")] // top bits set
    public void BindingResponse_Malformed_IsRejected(string packet) =>
        StunBindingResponse.TryParse(Convert.FromHexString(packet), out _, out _).Should().BeFalse();

    [Theory]
    [InlineData("", false)]
    [InlineData("0000000000000000000000000000000000000000", false)]
    [InlineData("000000002112a4420000000000000000000000", false)]
    [InlineData("000000002112a442000000000000000000000000", true)]
    [InlineData("000000002112a442000000000000000000000000666f6f", true)]
    [InlineData("f00000002112a442000000000000000000000000", false)]
    [InlineData("400000002112a442000000000000000000000000", false)]
    [InlineData("200000002112a442000000000000000000000000", true)]
    public void IsStun_Cases(string packet, bool expected) =>
        StunMessage.IsStun(Convert.FromHexString(packet)).Should().Be(expected);

    [Fact]
    public void Request_RoundTripsThroughAServerShapedResponse()
    {
        var txId = Convert.FromHexString("a1a2a3a4a5a6a7a8a9aaabac");
        var response = Convert.FromHexString("0101000c2112a442" + "a1a2a3a4a5a6a7a8a9aaabac" + "00200008000121ec2010a746");
        StunBindingResponse.TryParse(response, out var id, out var mapped).Should().BeTrue();
        id.ToArray().Should().Equal(txId);
        mapped.Should().Be(UnderlayAddress.FromIPv4([1, 2, 3, 4], 254));
    }
}
