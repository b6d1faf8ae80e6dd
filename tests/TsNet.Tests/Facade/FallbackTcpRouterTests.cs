using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Netstack.Sockets;
using TsNet.Services.Fallback;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.Facade;

/// <summary>The fallback router's decisions and bounds, driven directly (as the netstack's hook would) with a fake clock.</summary>
public sealed class FallbackTcpRouterTests
{
    private static readonly IPEndPoint Source = new(IPAddress.Parse("100.64.0.1"), 40000);

    private static FallbackTcpRouter NewRouter(ManualTimeProvider clock, FallbackTcpLimits? limits = null) =>
        new(limits ?? new FallbackTcpLimits(), clock, NullLogger.Instance, _ => { }, CancellationToken.None);

    private static IPEndPoint To(int port, string address = "198.18.0.5") => new(IPAddress.Parse(address), port);

    private static FallbackDecision AcceptAll(IPEndPoint source, IPEndPoint destination) => FallbackDecision.Accept((_, _) => Task.CompletedTask);

    [Fact]
    public void Handlers_AreAskedInRegistrationOrder_FirstClaimWins_ThrowingCountsAsDecline()
    {
        var router = NewRouter(new ManualTimeProvider());
        var asked = new List<string>();
        router.Decide(Source, To(80)).Should().BeNull("nothing registered: RST");
        router.Register((_, _) => { asked.Add("throws"); throw new InvalidOperationException("bug in a handler"); });
        router.Register((_, _) => { asked.Add("declines"); return FallbackDecision.Decline; });
        router.Register((_, d) => { asked.Add("claims"); return d.Port == 80 ? FallbackDecision.Accept((_, _) => Task.CompletedTask) : FallbackDecision.Reject; });
        router.Register((_, _) => { asked.Add("never"); return FallbackDecision.Accept((_, _) => Task.CompletedTask); });

        router.Decide(Source, To(80)).Should().NotBeNull();
        asked.Should().Equal("throws", "declines", "claims");
        asked.Clear();
        router.Decide(Source, To(81)).Should().BeNull("the third handler rejects port 81: RST, and no later handler is asked");
        asked.Should().Equal("throws", "declines", "claims");
    }

    [Fact]
    public void DeclineAll_IsRst_AndDisposingTheRegistrationRemovesTheHandler()
    {
        var router = NewRouter(new ManualTimeProvider());
        using (router.Register((_, _) => FallbackDecision.Decline))
        {
            router.Decide(Source, To(80)).Should().BeNull();
            var registration = router.Register(AcceptAll);
            router.Decide(Source, To(80)).Should().NotBeNull();
            registration.Dispose();
            registration.Dispose(); // idempotent
            router.Decide(Source, To(80)).Should().BeNull("the accepting handler is gone");
        }
    }

    [Fact]
    public void SynFlood_ToOnePort_IsCappedAt512InFlight_AndAbandonedHandshakesFreeTheirSlots()
    {
        var router = NewRouter(new ManualTimeProvider());
        router.Register(AcceptAll);
        var claims = new List<UnmatchedTcpFlowClaim>();
        var refused = 0;
        for (var i = 0; i < 20_000; i++)
        {
            if (router.Decide(new IPEndPoint(Source.Address, 1024 + (i % 60000)), To(443)) is { } claim)
            {
                claims.Add(claim);
            }
            else
            {
                refused++;
            }
        }

        claims.Should().HaveCount(512);
        refused.Should().Be(20_000 - 512);
        router.Ports.InFlight(443).Should().Be(512);
        router.Decide(Source, To(8443)).Should().NotBeNull("the cap is per destination port");

        claims[0].Abandoned();
        claims[0].Abandoned(); // a flow is released once, however often it is reported
        router.Ports.InFlight(443).Should().Be(511);
        router.Decide(Source, To(443)).Should().NotBeNull("the freed slot is available again");
        router.Decide(Source, To(443)).Should().BeNull();
    }

    [Fact]
    public void PortScan_Of5000Ports_KeepsAtMost1024PortsOfState_AndIdlePortsAreReapedAfter120Seconds()
    {
        var clock = new ManualTimeProvider();
        var router = NewRouter(clock);
        router.Register(AcceptAll);
        var claims = new List<UnmatchedTcpFlowClaim>();
        for (var port = 1; port <= 5000; port++)
        {
            if (router.Decide(Source, To(port)) is { } claim)
            {
                claims.Add(claim);
            }

            router.Ports.PortCount.Should().BeLessThanOrEqualTo(1024);
        }

        claims.Should().HaveCount(1024, "one flow per port until the port table is full");
        router.Decide(Source, To(6000)).Should().BeNull("a new port while the table is full: RST");

        foreach (var claim in claims)
        {
            claim.Abandoned();
        }

        clock.Advance(TimeSpan.FromSeconds(119));
        router.Decide(Source, To(6001)).Should().BeNull("idle ports are kept for 120 s");
        clock.Advance(TimeSpan.FromSeconds(2));
        router.Decide(Source, To(6002)).Should().NotBeNull("after 120 s idle the ports are reaped");
        router.Ports.PortCount.Should().Be(1);
    }
}
