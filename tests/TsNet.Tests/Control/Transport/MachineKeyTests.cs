using TsNet.Control.Transport;
using TsNet.Tests.Crypto;

namespace TsNet.Tests.Control.Transport;

public class MachineKeyTests
{
    // Protocol doc §2: the known-answer pair from types/key/machine_test.go.
    private const string Private = "40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369";
    private const string Public = "50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765";

    [Fact]
    public void KnownPair_DerivesPublicAndTextForms()
    {
        var key = MachinePrivateKey.FromBytes(Hex.Decode(Private));

        key.PublicKey.ToString().Should().Be("mkey:" + Public);
        key.ToText().Should().Be("privkey:" + Private);
        key.ToString().Should().NotContain(Private);
    }

    [Fact]
    public void PublicText_RoundTrips_AndAcceptsUppercaseHex()
    {
        MachinePublicKey.Parse("mkey:" + Public).ToString().Should().Be("mkey:" + Public);
        MachinePublicKey.Parse("mkey:" + Public.ToUpperInvariant()).Should().Be(MachinePublicKey.Parse("mkey:" + Public));
    }

    [Fact]
    public void PrivateText_RoundTrips()
    {
        var generated = MachinePrivateKey.Generate();

        MachinePrivateKey.TryParse(generated.ToText(), out var parsed).Should().BeTrue();
        parsed!.PublicKey.Should().Be(generated.PublicKey);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("MKEY:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765")]
    [InlineData("nodekey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765")]
    [InlineData("mkey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f7")]
    [InlineData("mkey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f76500")]
    [InlineData("mkey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f7zz")]
    [InlineData("50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765")]
    public void BadText_IsRejected(string? text)
    {
        MachinePublicKey.TryParse(text, out _).Should().BeFalse();
        FluentActions.Invoking(() => MachinePublicKey.Parse(text!)).Should().Throw<FormatException>();
    }

    [Fact]
    public void ZeroKey_IsZeroAndPrintsZeros()
    {
        default(MachinePublicKey).IsZero.Should().BeTrue();
        default(MachinePublicKey).ToString().Should().Be("mkey:" + new string('0', 64));
        MachinePublicKey.Parse("mkey:" + Public).IsZero.Should().BeFalse();
    }

    [Fact]
    public void GeneratedKeys_AreClamped()
    {
        var key = MachinePrivateKey.Generate();

        (key.Bytes[0] & 7).Should().Be(0);
        (key.Bytes[31] & 0xc0).Should().Be(0x40);
    }
}
