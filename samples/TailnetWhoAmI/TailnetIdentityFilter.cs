using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TsNet;

namespace TsNet.Samples.WhoAmI;

/// <summary>
/// Authorization by tailnet identity: lets a request through only when the calling node belongs to one of
/// <paramref name="allowed"/> — a user's login name (<c>alice@example.com</c>) or an ACL tag (<c>tag:ops</c>) — as
/// <see cref="TailnetServer.WhoIsAsync"/> tells it. No passwords, no tokens: the tailnet already authenticated the
/// caller's node. Everyone else gets 403.
/// </summary>
internal sealed class TailnetIdentityFilter(IReadOnlyCollection<string> allowed) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var node = http.RequestServices.GetRequiredService<TailnetServer>();
        var remote = new IPEndPoint(http.Connection.RemoteIpAddress!, http.Connection.RemotePort);
        var who = await node.WhoIsAsync(remote, http.RequestAborted);
        var mayCall = who is not null
            && ((who.UserLoginName is { } user && allowed.Contains(user, StringComparer.OrdinalIgnoreCase))
                || who.Tags.Any(tag => allowed.Contains(tag, StringComparer.OrdinalIgnoreCase)));
        return mayCall
            ? await next(context)
            : Results.Text($"{who?.UserLoginName ?? who?.DnsName ?? remote.ToString()} may not call this; allowed: {string.Join(", ", allowed)}\n", statusCode: StatusCodes.Status403Forbidden);
    }
}
