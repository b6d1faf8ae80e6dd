using System.Net;

namespace TsNet.Tests.Publishing;

/// <summary>The CLI syntax of <c>--forward</c> and <c>--publish</c>: what is accepted, what is refused, and why.</summary>
public sealed class PortMappingParseTests
{
    [Theory]
    [InlineData("tcp:127.0.0.1:8080=100.64.0.1:80", PortProtocol.Tcp, "127.0.0.1", 8080, "100.64.0.1:80")]
    [InlineData("udp:127.0.0.1:5353=100.64.0.1:53", PortProtocol.Udp, "127.0.0.1", 5353, "100.64.0.1:53")]
    [InlineData("tcp:8080=db:5432", PortProtocol.Tcp, "127.0.0.1", 8080, "db:5432")]
    [InlineData("tcp:0.0.0.0:0=db.tailnet.example:5432", PortProtocol.Tcp, "0.0.0.0", 0, "db.tailnet.example:5432")]
    [InlineData("tcp:[::1]:8080=[fd7a:115c:a1e0::1]:80", PortProtocol.Tcp, "::1", 8080, "[fd7a:115c:a1e0::1]:80")]
    [InlineData("UDP:[::1]:53=100.64.0.1:53", PortProtocol.Udp, "::1", 53, "100.64.0.1:53")]
    [InlineData("  tcp:127.0.0.1:1=100.64.0.1:65535 ", PortProtocol.Tcp, "127.0.0.1", 1, "100.64.0.1:65535")]
    public void ParseForward_Accepts(string text, PortProtocol protocol, string listenAddress, int listenPort, string target)
    {
        var mapping = PortMapping.ParseForward(text);

        mapping.Direction.Should().Be(PortMappingDirection.HostToTailnet);
        mapping.Protocol.Should().Be(protocol);
        mapping.Listen.Should().Be(new IPEndPoint(IPAddress.Parse(listenAddress), listenPort));
        mapping.Target.Should().Be(target);
        mapping.HostTarget.Should().BeNull();
        mapping.OverlayPort.Should().Be(0);
        PortMapping.ParseForward(mapping.ToString()).Should().Be(mapping, "ToString writes the CLI syntax back");
    }

    [Theory]
    [InlineData("tcp:80=127.0.0.1:8000", PortProtocol.Tcp, 80, "127.0.0.1", 8000)]
    [InlineData("udp:53=127.0.0.1:5353", PortProtocol.Udp, 53, "127.0.0.1", 5353)]
    [InlineData("tcp:443=[::1]:8443", PortProtocol.Tcp, 443, "::1", 8443)]
    [InlineData("Tcp:65535=10.0.0.5:1", PortProtocol.Tcp, 65535, "10.0.0.5", 1)]
    public void ParsePublish_Accepts(string text, PortProtocol protocol, int overlayPort, string hostAddress, int hostPort)
    {
        var mapping = PortMapping.ParsePublish(text);

        mapping.Direction.Should().Be(PortMappingDirection.TailnetToHost);
        mapping.Protocol.Should().Be(protocol);
        mapping.OverlayPort.Should().Be(overlayPort);
        mapping.HostTarget.Should().Be(new IPEndPoint(IPAddress.Parse(hostAddress), hostPort));
        mapping.Listen.Should().BeNull();
        mapping.Target.Should().BeNull();
        PortMapping.ParsePublish(mapping.ToString()).Should().Be(mapping);
    }

    [Theory]
    [InlineData("", "does not start with tcp: or udp:")]
    [InlineData("127.0.0.1:8080=100.64.0.1:80", "protocol '127.0.0.1' is neither tcp nor udp")]
    [InlineData("sctp:8080=100.64.0.1:80", "protocol 'sctp' is neither tcp nor udp")]
    [InlineData("tcp:127.0.0.1:8080", "exactly one '='")]
    [InlineData("tcp:1=2=100.64.0.1:80", "exactly one '='")]
    [InlineData("tcp:=100.64.0.1:80", "nothing before '='")]
    [InlineData("tcp:8080=", "nothing after '='")]
    [InlineData("tcp:localhost:8080=100.64.0.1:80", "listen address 'localhost' is not an IP address")]
    [InlineData("tcp:127.0.0.1:65536=100.64.0.1:80", "listen port '65536' is not a number from 0 to 65535")]
    [InlineData("tcp:127.0.0.1:-1=100.64.0.1:80", "listen port '-1'")]
    [InlineData("tcp:127.0.0.1:=100.64.0.1:80", "listen port ''")]
    [InlineData("tcp:::1:8080=100.64.0.1:80", "more than one ':' (write IPv6 addresses in brackets")]
    [InlineData("tcp:[::1:8080=100.64.0.1:80", "'[' without ']'")]
    [InlineData("tcp:[::1]8080=100.64.0.1:80", "no ':PORT' after ']'")]
    [InlineData("tcp:[127.0.0.1]:8080=100.64.0.1:80", "'[127.0.0.1]' in the listen address is not an IPv6 address")]
    [InlineData("tcp:8080=100.64.0.1", "target '100.64.0.1' has no ':PORT'")]
    [InlineData("tcp:8080=100.64.0.1:0", "target port '0' is not a number from 1 to 65535")]
    [InlineData("tcp:8080=100.64.0.1:http", "target port 'http'")]
    [InlineData("tcp:8080=fd7a::1:80", "more than one ':'")]
    [InlineData("tcp:8080=bad name:80", "target 'bad name' is neither an IP address nor a peer name")]
    [InlineData("tcp:8080=:80", "no address before ':PORT'")]
    public void ParseForward_Refuses_WithAMessageSayingWhy(string text, string reason)
    {
        var act = () => PortMapping.ParseForward(text);

        var thrown = act.Should().Throw<FormatException>().Which;
        thrown.Message.Should().Contain(reason);
        thrown.Message.Should().StartWith($"Port mapping '{text}': ", "the message quotes the whole text");
        thrown.Message.Should().Contain("expected tcp|udp:[LISTEN_ADDR:]PORT=TARGET:PORT");
    }

    [Theory]
    [InlineData("tcp:127.0.0.1:80=127.0.0.1:8000", "must be just the overlay port")]
    [InlineData("tcp:0=127.0.0.1:8000", "overlay port '0' is not a number from 1 to 65535")]
    [InlineData("tcp:99999=127.0.0.1:8000", "overlay port '99999'")]
    [InlineData("tcp:80=localhost:8000", "host address 'localhost' is not an IP address")]
    [InlineData("tcp:80=127.0.0.1", "host address '127.0.0.1' has no ':PORT'")]
    [InlineData("tcp:80=127.0.0.1:0", "host port '0' is not a number from 1 to 65535")]
    [InlineData("udp:80=::1:8000", "more than one ':'")]
    [InlineData("icmp:80=127.0.0.1:8000", "protocol 'icmp' is neither tcp nor udp")]
    public void ParsePublish_Refuses_WithAMessageSayingWhy(string text, string reason)
    {
        var act = () => PortMapping.ParsePublish(text);

        var thrown = act.Should().Throw<FormatException>().Which;
        thrown.Message.Should().Contain(reason);
        thrown.Message.Should().StartWith($"Port mapping '{text}': ");
        thrown.Message.Should().Contain("expected tcp|udp:PORT=HOST_ADDR:PORT");
    }

    [Fact]
    public void Factories_MatchTheParsedForms_AndCheckTheirArguments()
    {
        PortMapping.HostToTailnet(PortProtocol.Tcp, new IPEndPoint(IPAddress.Loopback, 8080), "100.64.0.1:80")
            .Should().Be(PortMapping.ParseForward("tcp:127.0.0.1:8080=100.64.0.1:80"));
        PortMapping.HostToTailnet(PortProtocol.Udp, 5353, "[fd7a:115c:a1e0::1]:53").ToString()
            .Should().Be("udp:127.0.0.1:5353=[fd7a:115c:a1e0::1]:53", "a bare port listens on 127.0.0.1");
        PortMapping.TailnetToHost(PortProtocol.Tcp, 80, new IPEndPoint(IPAddress.IPv6Loopback, 8000)).ToString()
            .Should().Be("tcp:80=[::1]:8000");

        var noPort = () => PortMapping.HostToTailnet(PortProtocol.Tcp, 8080, "100.64.0.1");
        noPort.Should().Throw<ArgumentException>().WithMessage("*no ':PORT'*");
        var zeroOverlay = () => PortMapping.TailnetToHost(PortProtocol.Tcp, 0, new IPEndPoint(IPAddress.Loopback, 8000));
        zeroOverlay.Should().Throw<ArgumentOutOfRangeException>();
        var zeroTarget = () => PortMapping.TailnetToHost(PortProtocol.Udp, 53, new IPEndPoint(IPAddress.Loopback, 0));
        zeroTarget.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ForwardAndPublishTexts_AreNotInterchangeable()
    {
        // "tcp:80=127.0.0.1:8000" is a valid forward too (listen 127.0.0.1:80): the caller's flag decides.
        PortMapping.ParseForward("tcp:80=127.0.0.1:8000").Direction.Should().Be(PortMappingDirection.HostToTailnet);
        var act = () => PortMapping.ParsePublish("tcp:127.0.0.1:8080=100.64.0.1:80");
        act.Should().Throw<FormatException>();
    }
}
