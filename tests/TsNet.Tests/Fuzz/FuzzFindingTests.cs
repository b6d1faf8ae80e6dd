using TsNet.Benchmarks.Fuzz.Targets;

namespace TsNet.Tests.Fuzz;

/// <summary>Every finding of the fuzz campaign, replayed with its exact input through the target that found it.</summary>
public sealed class FuzzFindingTests
{
    /// <summary>
    /// noise, seed 1, index 74: an early payload whose JSON string holds invalid UTF-8 (0xCF before "000") escaped
    /// <see cref="TsNet.Control.Transport.ControlEarlyPayload.Parse"/> as an InvalidOperationException.
    /// </summary>
    [Fact]
    public void Noise_Seed1Index74_InvalidUtf8InTheEarlyPayload_IsARejection()
    {
        const string input = "0107FFFFFF54530000005F7B226E6F64654B65794368616C6C656E6765223A226368616C7075623A303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030CF303030227D";

        var execute = () => new ControlNoiseTarget().Execute(Convert.FromHexString(input));

        execute.Should().NotThrow();
    }

    /// <summary>
    /// controljson, seed 1, index 209: a /key answer with invalid UTF-8 (0xFF) inside a string escaped
    /// <see cref="TsNet.Control.Transport.ControlKeyClient.Parse"/> as an InvalidOperationException.
    /// </summary>
    [Fact]
    public void ControlJson_Seed1Index209_InvalidUtf8InTheKeyAnswer_IsARejection()
    {
        const string input = "007B226C65676163795075626C69634B6579223A226DFF65793A303030303030303030303030303030303030303030303038643063336135633966363764626430616565346530623135227D";

        var execute = () => new ControlJsonTarget().Execute(Convert.FromHexString(input));

        execute.Should().NotThrow();
    }
}
