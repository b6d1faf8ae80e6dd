// TailnetWhoAmI: an ASP.NET Core app that joins a tailnet through its coordination server (Tailscale, Headscale, or
// any server speaking the Tailscale control protocol) and answers every request with the caller's identity as the
// tailnet knows it (WhoIsAsync): user, node name, tags, addresses. What Go tsnet's whoami example does.
// Configuration (environment variables, or --NAME=value arguments): see README.md.
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TsNet;
using TsNet.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
var settings = builder.Configuration;
if (!TryReadOptions(settings, out var options, out var port, out var error))
{
    Console.Error.WriteLine($"error: {error}");
    return 2;
}

// The node logs (warnings and up) to stderr next to the app's own logs.
using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
options.LoggerFactory = loggerFactory;
await using var node = new TailnetServer(options);

// Without an auth key the server asks for an interactive login: open the URL in a browser.
node.StateChanged += (_, e) =>
{
    if (e.State == TailnetState.NeedsLogin && e.AuthUrl is { } authUrl)
    {
        Console.WriteLine($"login url={authUrl.AbsoluteUri}");
    }
};

builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseTailnet(node, port);              // Kestrel listens on the tailnet only; it starts the node
await using var app = builder.Build();
app.Run(context => AnswerAsync(node, context));       // every path, every method

await app.StartAsync();
try
{
    // Listening works from the start; the node has its addresses and name once it is Running (after the login).
    await node.UpAsync(app.Lifetime.ApplicationStopping);
}
catch (TailnetLoginException e)
{
    Console.Error.WriteLine($"error: {options.ControlUrl} refused the login: {e.Message}");
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

// The caller's identity: text, or JSON when asked for (Accept: application/json, or ?format=json).
static async Task AnswerAsync(TailnetServer node, HttpContext context)
{
    var remote = new IPEndPoint(context.Connection.RemoteIpAddress!, context.Connection.RemotePort);
    var who = await node.WhoIsAsync(remote, context.RequestAborted);
    if (who is null)
    {
        // Cannot happen for a connection over the tailnet; kept for clarity.
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await context.Response.WriteAsync($"{remote} is not a peer of this node\n", context.RequestAborted);
        return;
    }

    var json = context.Request.Query["format"] == "json"
        || context.Request.Headers.Accept.Any(accept => accept?.Contains("application/json", StringComparison.OrdinalIgnoreCase) == true);
    if (json)
    {
        await context.Response.WriteAsJsonAsync(
            new
            {
                who.UserLoginName,
                who.UserDisplayName,
                NodeName = who.DnsName,
                who.HostName,
                NodeKey = who.NodeKey.ToString(),
                who.Tags,
                Addresses = who.Addresses.Select(a => a.ToString()),
                Remote = remote.ToString(),
            },
            context.RequestAborted);
        return;
    }

    var text = new StringBuilder()
        .Append("login name:   ").AppendLine(who.UserLoginName ?? "(none: a tagged node, or no user profile from the server)")
        .Append("display name: ").AppendLine(who.UserDisplayName ?? "(none)")
        .Append("node name:    ").AppendLine(who.DnsName ?? "(none)")
        .Append("host name:    ").AppendLine(who.HostName ?? "(none)")
        .Append("node key:     ").AppendLine(who.NodeKey.ToString())
        .Append("tags:         ").AppendLine(who.Tags.Count == 0 ? "(none)" : string.Join(", ", who.Tags))
        .Append("addresses:    ").AppendLine(string.Join(", ", who.Addresses))
        .Append("remote:       ").AppendLine(remote.ToString());
    context.Response.ContentType = "text/plain; charset=utf-8";
    await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
}

// The node's options from configuration: environment variables (TSNET_CONTROL_URL, TS_AUTHKEY, TSNET_HOSTNAME,
// TSNET_STATE_DIR, TSNET_EPHEMERAL, TSNET_PORT) or the same names as --NAME=value arguments.
static bool TryReadOptions(IConfiguration settings, out TailnetServerOptions options, out int port, out string error)
{
    options = new TailnetServerOptions();
    port = 80;
    error = string.Empty;
    var controlText = settings["TSNET_CONTROL_URL"];
    if (controlText is null)
    {
        options.ControlUrl = TailnetServerOptions.TailscaleControlUrl;   // as Go tsnet: Tailscale's own server
    }
    else if (Uri.TryCreate(controlText, UriKind.Absolute, out var controlUrl) && controlUrl.Scheme is "http" or "https")
    {
        options.ControlUrl = controlUrl;
    }
    else
    {
        error = $"TSNET_CONTROL_URL={controlText}: expected an http:// or https:// URL";
        return false;
    }

    options.AuthKey = settings["TS_AUTHKEY"] is { Length: > 0 } key ? key : null;   // null: interactive login
    options.Hostname = settings["TSNET_HOSTNAME"] ?? "whoami";
    var ephemeral = false;
    if (settings["TSNET_EPHEMERAL"] is { } ephemeralText && !bool.TryParse(ephemeralText, out ephemeral))
    {
        error = $"TSNET_EPHEMERAL={ephemeralText}: expected true or false";
        return false;
    }

    options.Ephemeral = ephemeral;

    // As Go tsnet: the state lives in the user's configuration directory unless told otherwise; an ephemeral node
    // needs none.
    options.StateDirectory = settings["TSNET_STATE_DIR"]
        ?? (options.Ephemeral ? null : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.Create), "tsnet-whoami"));
    if (settings["TSNET_PORT"] is { } portText && (!int.TryParse(portText, out port) || port is < 1 or > 65535))
    {
        error = $"TSNET_PORT={portText}: expected a TCP port (1-65535)";
        return false;
    }

    return true;
}
