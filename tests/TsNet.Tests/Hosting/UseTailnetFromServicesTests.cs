using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TsNet.AspNetCore;
using TsNet.Underlay;

namespace TsNet.Tests.Hosting;

/// <summary><c>builder.WebHost.UseTailnet(port)</c> serves on the node that <c>AddTailnet</c> registered.</summary>
public sealed class UseTailnetFromServicesTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Kestrel_ServesOnTheNodeFromServices_HealthEndpointReportsIt()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddTailnet(options => HostingTestSupport.StaticNode(options, hub, HostingTestSupport.A));
        builder.Services.AddHealthChecks().AddTailnet();
        builder.WebHost.UseTailnet(8080);
        await using var app = builder.Build();
        app.MapGet("/", (HttpContext context) => $"hello {context.Connection.RemoteIpAddress}");
        app.MapHealthChecks("/healthz");
        await app.StartAsync(cts.Token);
        var node = app.Services.GetRequiredService<TailnetServer>();
        await using var client = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.B, cts.Token);
        await HostingTestSupport.PairAsync(node, HostingTestSupport.A, client, HostingTestSupport.B, cts.Token);
        using var http = client.CreateHttpClient();

        (await http.GetStringAsync(new Uri("http://100.64.0.1:8080/"), cts.Token)).Should().Be("hello 100.64.0.2");
        (await http.GetStringAsync(new Uri("http://100.64.0.1:8080/healthz"), cts.Token)).Should().Be("Healthy");

        await app.StopAsync(cts.Token);
        node.State.Should().Be(TailnetState.Stopped, "the hosted service disposed the node after Kestrel stopped");
    }

    [Fact]
    public void WithoutANodeInServices_BuildingTheAppFails_SayingWhatToAdd()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseTailnet(8080);

        // WebApplication reads Kestrel's options (and so looks for the node) as it is built.
        FluentActions.Invoking(() => builder.Build()).Should().Throw<InvalidOperationException>()
            .Which.Message.Should().Contain("call services.AddTailnet(...)");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void APortOutOfRange_IsRefusedAtOnce(int port)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        FluentActions.Invoking(() => builder.WebHost.UseTailnet(port)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
