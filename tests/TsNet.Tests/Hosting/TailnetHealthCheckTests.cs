using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using TsNet.Tests.ControlMode;
using TsNet.Tests.Netstack;
using TsNet.Underlay;

namespace TsNet.Tests.Hosting;

/// <summary>
/// <c>AddHealthChecks().AddTailnet()</c>: Healthy while Running; Degraded while starting, waiting for a login or cut off
/// from the coordination server; Unhealthy when Stopped, Expired or Faulted.
/// </summary>
public sealed class TailnetHealthCheckTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static async Task<HealthReportEntry> CheckAsync(IHost host, CancellationToken cancellationToken)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(cancellationToken);
        return report.Entries.Should().ContainKey("tailnet").WhoseValue;
    }

    private static IHost BuildHost(Action<TailnetServerOptions> configure, string name = "tailnet")
    {
        var builder = HostingTestSupport.EmptyHost();
        builder.Services.AddTailnet(configure);
        builder.Services.AddHealthChecks().AddTailnet(name);
        return builder.Build();
    }

    [Fact]
    public async Task StaticNode_UnhealthyBeforeStart_HealthyOnceStarted_UnhealthyWhenStopped()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        using var host = BuildHost(options => HostingTestSupport.StaticNode(options, hub, HostingTestSupport.A));

        (await CheckAsync(host, cts.Token)).Status.Should().Be(HealthStatus.Unhealthy, "a node that was never started serves nothing");

        await host.StartAsync(cts.Token);
        var running = await CheckAsync(host, cts.Token);
        running.Status.Should().Be(HealthStatus.Healthy, "a static node has no coordination server to wait for");
        running.Data["state"].Should().Be("Running");

        await host.StopAsync(cts.Token);
        var stopped = await CheckAsync(host, cts.Token);
        stopped.Status.Should().Be(HealthStatus.Unhealthy);
        stopped.Description.Should().Be("The tailnet node is stopped.");
    }

    [Fact]
    public async Task ControlNode_DegradedWhileStartingAndLoginPending_HealthyWhenRunningAndConnected_DegradedWhenControlIsLost()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        using var host = BuildHost(options => TailnetHostedServiceTests.ControlNode(options, tailnet, sessions));
        await host.StartAsync(cts.Token);
        var session = await ControlModeStateTests.StartedSessionAsync(sessions, cts.Token);
        var node = host.Node();

        var starting = await CheckAsync(host, cts.Token);
        starting.Status.Should().Be(HealthStatus.Degraded);
        starting.Data["state"].Should().Be("Starting");

        var authUrl = new Uri("http://control.test/a/health");
        session.Observer.OnLoginRequired(authUrl);
        var pending = await CheckAsync(host, cts.Token);
        pending.Status.Should().Be(HealthStatus.Degraded);
        pending.Data["authUrl"].Should().Be(authUrl.AbsoluteUri);
        pending.Description.Should().Contain(authUrl.AbsoluteUri);

        session.Observer.OnControlConnectionChanged(true, null);
        await new FakeNode(tailnet, "web", 1, node, session, []).PushFullMapAsync(cts.Token);
        var running = await CheckAsync(host, cts.Token);
        running.Status.Should().Be(HealthStatus.Healthy, running.Description);
        running.Data["dnsName"].Should().Be("web.tail.test");
        running.Data["controlConnected"].Should().Be(true);

        session.Observer.OnControlConnectionChanged(false, new IOException("connection reset"));
        var lost = await CheckAsync(host, cts.Token);
        lost.Status.Should().Be(HealthStatus.Degraded);
        lost.Data["controlConnected"].Should().Be(false);

        session.Observer.OnControlConnectionChanged(true, null);
        (await CheckAsync(host, cts.Token)).Status.Should().Be(HealthStatus.Healthy);
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public async Task ExpiredNode_IsUnhealthy()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        await using var tailnet = new FakeTailnet(clock);
        var sessions = new List<FakeControlSession>();
        using var host = BuildHost(options => TailnetHostedServiceTests.ControlNode(options, tailnet, sessions));
        await host.StartAsync(cts.Token);
        var session = await ControlModeStateTests.StartedSessionAsync(sessions, cts.Token);
        var self = new FakeNode(tailnet, "web", 1, host.Node(), session, []) { KeyExpiry = clock.GetUtcNow().AddSeconds(-1) };

        await self.PushFullMapAsync(cts.Token);

        host.Node().State.Should().Be(TailnetState.Expired);
        var expired = await CheckAsync(host, cts.Token);
        expired.Status.Should().Be(HealthStatus.Unhealthy);
        expired.Data["state"].Should().Be("Expired");
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public async Task FaultedNode_IsUnhealthy_UnderTheGivenName()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var builder = HostingTestSupport.EmptyHost();
        builder.Services.AddTailnet(options => HostingTestSupport.StaticNode(options, hub, HostingTestSupport.A));
        builder.Services.AddHealthChecks().AddTailnet("overlay");
        using var host = builder.Build();
        await host.StartAsync(cts.Token);

        host.Node().FaultLoopForTest(dataplane: true, new InvalidDataException("injected bug"));
        await HostingTestSupport.WaitUntilAsync(() => host.Node().State == TailnetState.Faulted, cts.Token);

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(cts.Token);
        report.Entries.Should().ContainKey("overlay").WhoseValue.Status.Should().Be(HealthStatus.Unhealthy);
        report.Status.Should().Be(HealthStatus.Unhealthy);
        await host.StopAsync(cts.Token);
    }
}
