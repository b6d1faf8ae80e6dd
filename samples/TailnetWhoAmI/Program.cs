// TailnetWhoAmI: an ASP.NET Core app that joins a tailnet through its coordination server (Tailscale, Headscale, or
// any server speaking the Tailscale control protocol) and answers every request with the caller's identity as the
// tailnet knows it (WhoIsAsync): user, node name, tags, addresses. What Go tsnet's whoami example does, in the
// generic-host style: the node comes from DI (AddTailnet), its settings from appsettings.json ("Tailnet" section),
// environment variables or arguments. See README.md.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TsNet;
using TsNet.AspNetCore;
using TsNet.Samples.WhoAmI;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
if (ShortSettings.Apply(builder.Configuration) is { } settingError)   // TSNET_CONTROL_URL=... and friends
{
    Console.Error.WriteLine($"error: {settingError}");
    return 2;
}

builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);   // stdout is for the app's lines
builder.Services.AddTailnet(builder.Configuration.GetSection("Tailnet"));
builder.Services.PostConfigure<TailnetServerOptions>(options =>
    // As Go tsnet: the state lives in the user's configuration directory unless told otherwise; an ephemeral node needs none.
    options.StateDirectory ??= options.Ephemeral ? null : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.Create), "tsnet-whoami"));
builder.Services.AddHealthChecks().AddTailnet();
var port = builder.Configuration.GetValue("WhoAmI:Port", 80);
builder.WebHost.UseTailnet(port);                     // Kestrel listens on the tailnet only, on the node from DI

WebApplication app;
try
{
    app = builder.Build();
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or WireGuardConfigException)
{
    Console.Error.WriteLine($"error: {e.Message}");   // a setting the node refuses
    return 2;
}

await using (app)
{
    var admins = builder.Configuration.GetSection("WhoAmI:Admins").Get<string[]>() ?? [];
    app.MapHealthChecks("/healthz");
    app.MapGet("/admin", () => "welcome to the admin page\n").AddEndpointFilter(new TailnetIdentityFilter(admins));
    app.MapFallback("{**path}", WhoAmIEndpoint.AnswerAsync);   // every other path, every method

    var node = app.Services.GetRequiredService<TailnetServer>();
    node.StateChanged += (_, e) =>
    {
        // Without an auth key the server asks for an interactive login: open the URL in a browser.
        if (e.State == TailnetState.NeedsLogin && e.AuthUrl is { } authUrl)
        {
            Console.WriteLine($"login url={authUrl.AbsoluteUri}");
        }
    };

    await app.StartAsync();                           // starts the node too; a pending login does not hold it
    try
    {
        await node.UpAsync(app.Lifetime.ApplicationStopping);   // on the tailnet: DnsName and Addresses are known
    }
    catch (TailnetLoginException e)
    {
        var controlUrl = app.Services.GetRequiredService<IOptions<TailnetServerOptions>>().Value.ControlUrl;
        Console.Error.WriteLine($"error: {controlUrl} refused the login: {e.Message}");
        await app.StopAsync();
        return 1;
    }
    catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
    {
        await app.StopAsync();
        return 0;
    }

    Console.WriteLine($"whoami on http://{node.DnsName}:{port}/ ({string.Join(", ", node.Addresses)}); Ctrl-C stops");
    await app.WaitForShutdownAsync();
    return 0;
}
