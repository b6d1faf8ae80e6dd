using Microsoft.AspNetCore.Http;

namespace TsNet.Tool.Http;

/// <summary>
/// What <c>tsnet up --http PORT --www DIR</c> serves, as one request delegate: <c>GET</c>/<c>HEAD /NAME</c> serves
/// <c>DIR/NAME</c> (<see cref="StaticFileHandler"/>: ranges, conditional requests, content types by extension);
/// <c>PUT</c>/<c>POST /sink</c> is the <see cref="SinkHandler"/>. A target leaving the directory is 400
/// (<see cref="RequestTargetGuard"/>), a missing file 404, another method 405 with <c>Allow</c>.
/// </summary>
internal static class FileAndSinkSite
{
    /// <summary>The site serving files from <paramref name="www"/>.</summary>
    public static RequestDelegate Create(WwwDirectory www)
    {
        RequestDelegate site = context =>
        {
            var request = context.Request;
            if (request.Path.Equals(SinkHandler.Path, StringComparison.Ordinal))
            {
                return HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method)
                    ? SinkHandler.HandleAsync(context)
                    : MethodNotAllowed(context, "PUT, POST");
            }

            if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
            {
                return MethodNotAllowed(context, "GET, HEAD");
            }

            if (www.Find(request.Path.Value ?? "/") is { } file)
            {
                return StaticFileHandler.ServeAsync(context, file);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        };
        return context => RequestTargetGuard.InvokeAsync(context, site);
    }

    private static Task MethodNotAllowed(HttpContext context, string allow)
    {
        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        context.Response.Headers.Allow = allow;
        return Task.CompletedTask;
    }
}
