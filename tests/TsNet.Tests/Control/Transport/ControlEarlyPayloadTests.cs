using System.Text;
using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Transport;

public sealed class ControlEarlyPayloadTests
{
    [Fact]
    public void Parse_ReadsTheNodeKeyChallenge()
    {
        var payload = ControlEarlyPayload.Parse("""{"nodeKeyChallenge":"chalpub:01"}"""u8);

        payload.NodeKeyChallenge.Should().Be("chalpub:01");
    }

    /// <summary>The JSON of the fuzz campaign's noise finding (seed 1, index 74): invalid UTF-8 (0xCF) inside a string.</summary>
    [Theory]
    [InlineData("7B226E6F64654B65794368616C6C656E6765223A226368616C7075623A303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030CF303030227D")]
    [InlineData("7B22FF223A317D")]
    public void Parse_InvalidUtf8_IsAControlTransportException(string hex)
    {
        var json = Convert.FromHexString(hex);
        Encoding.UTF8.GetString(json).Should().Contain("\uFFFD", "the input really is invalid UTF-8");

        var parse = () => ControlEarlyPayload.Parse(json);

        parse.Should().Throw<ControlTransportException>().WithMessage("*UTF-8*");
    }
}
