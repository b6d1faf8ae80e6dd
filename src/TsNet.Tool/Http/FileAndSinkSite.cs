using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace TsNet.Tool.Http;

/// <summary>
/// What <c>tsnet up --http PORT --www DIR</c> serves, as an ASP.NET Core pipeline: <c>GET</c>/<c>HEAD /NAME</c>
/// serves <c>DIR/NAME</c> through the static file middleware (ranges, conditional requests, content types by
/// extension; any other name as <c>application/octet-stream</c>, so every file downloads); <c>PUT</c>/<c>POST
/// /sink</c> is the <see cref="SinkHandler"/>. A target leaving the directory is 400
/// (<see cref="RequestTargetGuard"/>), a missing file 404, another method 405 with <c>Allow</c>.
/// </summary>
internal static class FileAndSinkSite
{
    /// <summary>Adds the site to <paramref name="app"/>'s pipeline, serving files from <paramref name="files"/>.</summary>
    public static void Map(WebApplication app, WwwFileProvider files)
    {
        app.Use(RequestTargetGuard.InvokeAsync);
        app.Use((context, next) =>
        {
            if (!context.Request.Path.Equals(SinkHandler.Path, StringComparison.Ordinal))
            {
                return next(context);
            }

            return HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPost(context.Request.Method)
                ? SinkHandler.HandleAsync(context)
                : MethodNotAllowed(context, "PUT, POST");
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            ServeUnknownFileTypes = true,
            DefaultContentType = "application/octet-stream",
        });
        app.Run(context =>
        {
            // The static files answered every GET/HEAD of an existing file; what reaches here is missing or not a read.
            if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return MethodNotAllowed(context, "GET, HEAD");
        });
    }

    private static Task MethodNotAllowed(HttpContext context, string allow)
    {
        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        context.Response.Headers.Allow = allow;
        return Task.CompletedTask;
    }
}
