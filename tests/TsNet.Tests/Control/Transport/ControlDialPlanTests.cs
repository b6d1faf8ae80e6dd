using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Transport;

public class ControlDialPlanTests
{
    private static string Describe(string url)
        => string.Join(" ", ControlDialPlan.For(new Uri(url)).Select(t => $"{(t.UseTls ? "tls" : "tcp")}:{t.Host}:{t.Port}@{t.StartDelay.TotalMilliseconds}"));

    [Theory]
    [InlineData("https://control.example.com", "tcp:control.example.com:80@0 tls:control.example.com:443@500")]
    [InlineData("https://control.example.com:8443", "tls:control.example.com:8443@0")]
    [InlineData("https://127.0.0.1", "tcp:127.0.0.1:80@0 tls:127.0.0.1:443@500")]
    [InlineData("http://control.example.com:8080", "tcp:control.example.com:8080@0 tls:control.example.com:443@500")]
    [InlineData("http://control.example.com", "tcp:control.example.com:80@0 tls:control.example.com:443@500")]
    [InlineData("http://127.0.0.1:8080", "tcp:127.0.0.1:8080@0")]
    [InlineData("http://localhost:9911", "tcp:localhost:9911@0")]
    [InlineData("http://10.1.2.3", "tcp:10.1.2.3:80@0")]
    [InlineData("http://192.168.1.1:80", "tcp:192.168.1.1:80@0")]
    [InlineData("http://172.20.0.1:80", "tcp:172.20.0.1:80@0")]
    [InlineData("http://[fd7a:115c:a1e0::1]:8080", "tcp:fd7a:115c:a1e0::1:8080@0")]
    [InlineData("http://[::1]:8080", "tcp:::1:8080@0")]
    [InlineData("http://172.32.0.1:80", "tcp:172.32.0.1:80@0 tls:172.32.0.1:443@500")]
    public void Url_GivesTargets(string url, string expected) => Describe(url).Should().Be(expected);

    [Theory]
    [InlineData("ftp://control.example.com")]
    [InlineData("ws://control.example.com")]
    public void OtherSchemes_AreRejected(string url)
        => FluentActions.Invoking(() => ControlDialPlan.For(new Uri(url))).Should().Throw<ArgumentException>();
}
