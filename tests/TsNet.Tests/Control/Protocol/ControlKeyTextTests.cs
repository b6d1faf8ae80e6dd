using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Protocol;

/// <summary>Key text forms (fixtures A.4, protocol doc §2).</summary>
public sealed class ControlKeyTextTests
{
    private const string PrivateHex = "40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369";
    private const string PublicHex = "50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765";

    [Fact]
    public void KnownPair_RoundTripsInEveryForm()
    {
        ControlKeyText.TryParse(ControlKeyText.PrivatePrefix, "privkey:" + PrivateHex, out var privateKey).Should().BeTrue();
        var publicKey = privateKey.PublicKey;

        ControlKeyText.Format(ControlKeyText.PrivatePrefix, privateKey).Should().Be("privkey:" + PrivateHex);
        ControlKeyText.Format(ControlKeyText.NodePublicPrefix, publicKey).Should().Be("nodekey:" + PublicHex);
        ControlKeyText.Format(ControlKeyText.MachinePublicPrefix, publicKey).Should().Be("mkey:" + PublicHex);
        ControlKeyText.TryParseDisco("discokey:" + PublicHex, out var disco).Should().BeTrue();
        ControlKeyText.Format(disco).Should().Be("discokey:" + PublicHex);
        ControlKeyText.TryParse(ControlKeyText.NodePublicPrefix, "nodekey:" + PublicHex, out var parsed).Should().BeTrue();
        parsed.Should().Be(publicKey);
    }

    [Fact]
    public void UpperCaseHex_IsAccepted_OutputIsLowerCase()
    {
        ControlKeyText.TryParse(ControlKeyText.NodePublicPrefix, "nodekey:" + PublicHex.ToUpperInvariant(), out var key).Should().BeTrue();
        ControlKeyText.Format(ControlKeyText.NodePublicPrefix, key).Should().Be("nodekey:" + PublicHex);
    }

    [Theory]
    [InlineData("")]
    [InlineData("nodekey:")]
    [InlineData("mkey:" + PublicHex)]
    [InlineData("NODEKEY:" + PublicHex)]
    [InlineData("nodekey:" + PublicHex + "00")]
    [InlineData("nodekey:" + "zz" + "d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765")]
    [InlineData(PublicHex)]
    public void WrongPrefixLengthOrDigits_AreRefused(string text)
    {
        ControlKeyText.TryParse(ControlKeyText.NodePublicPrefix, text, out _).Should().BeFalse();
    }

    [Fact]
    public void ZeroKey_KeepsItsPrefix()
    {
        ControlKeyText.Format(default(DiscoKey)).Should().Be("discokey:" + new string('0', 64));
        ControlKeyText.TryParseDisco("discokey:" + new string('0', 64), out var zero).Should().BeTrue();
        zero.IsEmpty.Should().BeTrue();
    }
}
