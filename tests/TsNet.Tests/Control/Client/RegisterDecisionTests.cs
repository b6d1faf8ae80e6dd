using System.Text.Json;
using TsNet.Control.Client;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Client;

public sealed class RegisterDecisionTests
{
    private static RegisterResponse Answer(string json) => JsonSerializer.Deserialize(json, ControlJsonContext.Default.RegisterResponse)!;

    [Fact]
    public void Authorized_Proceeds()
    {
        RegisterDecision.Decide(Answer(FakeControl.Authorized), sentAuthKey: true, haveAuthKey: true).Outcome.Should().Be(RegisterOutcome.Authorized);
    }

    [Fact]
    public void Error_WithTheKeySent_IsRefusedWithTheServersText()
    {
        var decision = RegisterDecision.Decide(Answer("""{"Error":"invalid authkey","MachineAuthorized":false}"""), sentAuthKey: true, haveAuthKey: true);

        decision.Outcome.Should().Be(RegisterOutcome.Refused);
        decision.Message.Should().Be("invalid authkey");
    }

    [Fact]
    public void Error_ForAStoredLogin_FallsBackToTheAuthKey()
    {
        RegisterDecision.Decide(Answer("""{"Error":"node not found"}"""), sentAuthKey: false, haveAuthKey: true).Outcome
            .Should().Be(RegisterOutcome.RetryWithAuthKey);
        RegisterDecision.Decide(Answer("""{"Error":"node not found"}"""), sentAuthKey: false, haveAuthKey: false).Outcome
            .Should().Be(RegisterOutcome.Refused);
    }

    [Fact]
    public void AuthUrl_IsALoginUnlessAKeyCanBeTriedFirst()
    {
        var json = """{"AuthURL":"http://127.0.0.1:9911/auth/0123456789abcdef0123456789abcdef01234567","MachineAuthorized":false}""";

        var interactive = RegisterDecision.Decide(Answer(json), sentAuthKey: false, haveAuthKey: false);
        interactive.Outcome.Should().Be(RegisterOutcome.LoginRequired);
        interactive.AuthUrl.Should().Be(new Uri("http://127.0.0.1:9911/auth/0123456789abcdef0123456789abcdef01234567"));
        RegisterDecision.Decide(Answer(json), sentAuthKey: false, haveAuthKey: true).Outcome.Should().Be(RegisterOutcome.RetryWithAuthKey);
        RegisterDecision.Decide(Answer(json), sentAuthKey: true, haveAuthKey: true).Outcome.Should().Be(RegisterOutcome.LoginRequired);
    }

    [Fact]
    public void NodeKeyExpired_AsksForANewKey()
    {
        RegisterDecision.Decide(Answer("""{"NodeKeyExpired":true,"MachineAuthorized":true}"""), sentAuthKey: true, haveAuthKey: true).Outcome
            .Should().Be(RegisterOutcome.NodeKeyExpired);
    }

    [Fact]
    public void UnusableAuthUrl_IsRefused()
    {
        var decision = RegisterDecision.Decide(Answer("""{"AuthURL":"not a url"}"""), sentAuthKey: true, haveAuthKey: true);

        decision.Outcome.Should().Be(RegisterOutcome.Refused);
        decision.Message.Should().Contain("not a url");
    }
}
