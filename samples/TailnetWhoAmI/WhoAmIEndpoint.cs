using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using TsNet;

namespace TsNet.Samples.WhoAmI;

/// <summary>The caller's identity: text, or JSON when asked for (<c>Accept: application/json</c>, or <c>?format=json</c>).</summary>
internal static class WhoAmIEndpoint
{
    public static async Task AnswerAsync(HttpContext context, TailnetServer node)
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
}
